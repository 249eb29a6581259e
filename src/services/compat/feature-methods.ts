/**
 * Methods OpenClaw's Control UI calls for features this Gateway has, in the shapes its UI reads:
 * chat.metadata and models.list (the agent's provider as its one model), models.authStatus (whether
 * that provider has the credential it needs), the sessions' branches, companion and observer state
 * (our transcripts are one line each, with no companion: empty, never an error), and update.status
 * (where updates come from; this Gateway never checks or installs one itself).
 */
import type { AgentProviderSettings } from "../../config/settings.js"
import type { AgentRuntimeService } from "../agent/AgentRuntime.js"
import type { GatewaySettings } from "../config/GatewayConfig.js"
import type { FeatureGroup } from "../../protocol/contracts/compat.js"
import type { GroupHandlers } from "../gateway/api.js"
import { OPENCLAW_COMPAT_VERSION, VERSION } from "../../version.js"

/** The echo provider needs no credential; openai needs one only when agent.provider.apiKeyEnv names it. */
type Credential = "none" | "set" | "missing"
const credentialOf = (provider: AgentProviderSettings): Credential => {
  if (provider.kind === "echo" || provider.apiKeyEnv === undefined) return "none"
  // apiKey: the variable's value in the environment the settings were resolved with (never process.env here).
  return provider.apiKey === undefined ? "missing" : "set"
}

/**
 * The agent's models as OpenClaw's ModelChoice rows: the configured provider's model, and echo
 * (built in) beside it when another provider is configured. Only the configured one runs: a
 * session cannot switch models here, so the others are listed but not selectable.
 */
export const modelChoices = (runtime: AgentRuntimeService, provider: AgentProviderSettings) => {
  const credential = credentialOf(provider)
  const active = {
    id: runtime.provider.model ?? runtime.provider.kind,
    name: runtime.provider.model ?? "echo (built-in offline test provider)",
    provider: runtime.provider.kind,
    available: credential !== "missing",
    ...(credential === "missing" ? { unavailableReason: "missing-auth" } : {}),
    manualSelectionAllowed: true,
    input: ["text"]
  }
  const echo = {
    id: "echo",
    name: "echo (built-in offline test provider)",
    provider: "echo",
    available: true,
    manualSelectionAllowed: false,
    input: ["text"]
  }
  return runtime.provider.kind === "echo" ? [active] : [active, echo]
}

/** models.authStatus's provider rows: `static` for an API key from the environment, `missing` without it. */
const authProviders = (provider: AgentProviderSettings) => {
  const credential = credentialOf(provider)
  // echo, and an OpenAI-compatible server without a key (Ollama, llama.cpp): nothing to authenticate.
  if (credential === "none") return []
  return [
    {
      provider: provider.kind,
      authProvider: provider.kind,
      displayName: provider.kind === "openai" ? `OpenAI-compatible (${provider.baseUrl})` : provider.kind,
      status: credential === "set" ? "static" : "missing",
      // The variable's name only, never its value.
      profiles: [
        {
          profileId: `env:${provider.kind === "openai" ? provider.apiKeyEnv : ""}`,
          type: "api_key",
          status: credential === "set" ? "static" : "missing",
          source: "config"
        }
      ]
    }
  ]
}

export const featureMethods = (
  runtime: AgentRuntimeService,
  settings: GatewaySettings
): GroupHandlers<typeof FeatureGroup> => ({
  "chat.metadata": {
    sync: () => ({
      // No slash commands and no agent swarms here; the runtime is the one this Gateway runs.
      commands: [],
      models: modelChoices(runtime, settings.agent.provider),
      swarmEnabled: false,
      runtimeSelectionLocked: true
    })
  },
  "models.list": { sync: () => ({ models: modelChoices(runtime, settings.agent.provider) }) },
  "models.authStatus": { sync: () => ({ ts: Date.now(), providers: authProviders(settings.agent.provider) }) },
  // One transcript per session, without forks: no other branch to switch to.
  "sessions.branches.list": { sync: () => ({ branches: [] }) },
  // This Gateway has no session companion: its thread is always empty.
  "sessions.companion.state": { sync: () => ({ exchanges: [] }) },
  // Nothing is sent only to observers here, so a connection's observer visibility changes nothing.
  "sessions.observer.visibility": { sync: () => ({ ok: true }) },
  "update.status": {
    sync: () => ({
      sentinel: null,
      // Never checked: this Gateway does not look for updates (see `source`).
      updateAvailable: null,
      schedule: { channel: "stable", autoEnabled: false, install: { kind: "package" } },
      source: {
        package: "openclaw-gateway-effect",
        version: VERSION,
        openclawCompatibility: OPENCLAW_COMPAT_VERSION,
        registry: "npm",
        howToUpdate: "npm install -g openclaw-gateway-effect@latest, then restart the Gateway"
      }
    })
  }
})
