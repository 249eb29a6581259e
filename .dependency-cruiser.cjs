/** Architecture rules, checked by `npm run lint` (dependency-cruiser). */
module.exports = {
  forbidden: [
    { name: "no-cycles", severity: "error", comment: "Imports never form a cycle.", from: {}, to: { circular: true } },
    {
      name: "client-not-server",
      severity: "error",
      comment:
        "The client (CLI side) never imports server modules; shared code lives in src/protocol or src/platform. The ssh feature is the client's own transport (the tunnel it opens).",
      from: { path: "^src/client/" },
      to: { path: "^src/(services|layers)/", pathNot: "^src/services/ssh/" }
    },
    {
      name: "protocol-and-platform-are-leaves",
      severity: "error",
      comment: "src/protocol and src/platform are shared by everyone and import nothing of ours but each other.",
      from: { path: "^src/(protocol|platform)/" },
      to: { path: "^src/", pathNot: "^src/(protocol|platform|version)" }
    },
    {
      name: "core-not-features",
      severity: "error",
      comment:
        "The Gateway core knows nothing of features: they plug in through Tags it offers (registerMethod, hooks).",
      from: { path: "^src/services/gateway/" },
      to: { path: "^src/services/", pathNot: "^src/services/(gateway|config|auth|binder)/" }
    }
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsConfig: { fileName: "tsconfig.json" },
    tsPreCompilationDeps: true,
    exclude: { path: "^src/ui/" }
  }
}
