/** Architecture rules, checked by `npm run lint` (dependency-cruiser). */
module.exports = {
  forbidden: [
    { name: "no-cycles", severity: "error", comment: "Imports never form a cycle.", from: {}, to: { circular: true } },
    {
      name: "client-not-server",
      severity: "error",
      comment: "The client (CLI side) never imports server modules; shared code lives in src/protocol or src/platform.",
      from: { path: "^src/client/" },
      to: { path: "^src/(services|gateway|layers|node)/" }
    },
    {
      name: "protocol-and-platform-are-leaves",
      severity: "error",
      comment: "src/protocol and src/platform are shared by everyone and import nothing of ours but each other.",
      from: { path: "^src/(protocol|platform)/" },
      to: { path: "^src/", pathNot: "^src/(protocol|platform|version)" }
    }
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsConfig: { fileName: "tsconfig.json" },
    tsPreCompilationDeps: true,
    exclude: { path: "^src/ui/" }
  }
}
