/** What other projects may use of the agent (the end-to-end tests): its authenticated, proxy-aware socket. */
export { agentSocket, connected, type SocketIdentity } from './agent-socket';
export { parseProxySettings } from './proxy-route';
