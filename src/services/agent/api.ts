/** The agent's providers (`Agent.*`): `AgentRuntime.layerWith(Agent.openaiProvider(...))`. */
export { echoProvider, openaiProvider, type Provider, type RunResult } from "./AgentRuntime.js"
