// The agent's own package: the name the server's /repo/agent/ repository serves, the bootstrap script
// installs and `rpmgate agent publish` accepts (agent/packaging/rpmgate-agent.spec builds it).
export const agentPackageName = 'rpmgate-agent';
