/**
 * Architecture rules, checked by `npm run lint` (dependency-cruiser). Folder-level cycles, which
 * these rules cannot express, are scripts/check-folder-cycles.mjs's (also run by `npm run lint`).
 */
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
        "The Gateway core knows nothing of features: they plug in through what api.ts offers (registerMethod, hooks).",
      from: { path: "^src/services/gateway/" },
      to: { path: "^src/services/", pathNot: "^src/services/(gateway|config|auth|binder)/" }
    },
    {
      name: "features-use-the-core-api",
      severity: "error",
      comment:
        "Outside the core, the Gateway is used through src/services/gateway/api.ts only, as an embedder uses it: our features get no more than theirs.",
      from: { pathNot: "^src/services/gateway/" },
      to: { path: "^src/services/gateway/", pathNot: "^src/services/gateway/api\\.ts$" }
    },
    {
      name: "boundaries-below-the-core",
      severity: "error",
      comment:
        "Layering: config -> tailscale (the CLI boundary) -> binder -> auth -> gateway -> features. The layers below the Gateway import no feature and no Gateway.",
      from: { path: "^src/services/(config|tailscale|binder|auth)/" },
      to: { path: "^src/services/", pathNot: "^src/services/(config|tailscale|binder|auth)/" }
    }
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsConfig: { fileName: "tsconfig.json" },
    tsPreCompilationDeps: true,
    exclude: { path: "^src/ui/" }
  }
}
