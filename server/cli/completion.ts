// `rpmgate completion bash|zsh`: a completion script written from the program's own commands and
// options, so it never lags behind them. zsh runs the bash function through bashcompinit.
import type { Command } from 'commander';

function optionFlags(command: Command): string[] {
  return command.options.map((option) => option.long ?? option.short ?? '').filter(Boolean);
}

function words(list: string[]): string {
  return list.join(' ');
}

export function bashCompletion(program: Command): string {
  const globals = optionFlags(program);
  const top = program.commands.map((command) => command.name());
  const cases = program.commands.map((command) => {
    const subcommands = command.commands.map((sub) => sub.name());
    if (subcommands.length === 0) return `    ${command.name()}) words="${words([...optionFlags(command), ...globals])}" ;;`;
    const inner = command.commands.map((sub) => `        ${sub.name()}) words="${words([...optionFlags(sub), ...globals])}" ;;`).join('\n');
    return [
      `    ${command.name()})`,
      `      if [ "$COMP_CWORD" -eq 2 ]; then words="${words(subcommands)}"; else`,
      '      case "${COMP_WORDS[2]}" in',
      inner,
      `        *) words="${words(subcommands)}" ;;`,
      '      esac; fi ;;',
    ].join('\n');
  });
  return `# rpmgate completion for bash: source <(rpmgate completion bash), or save it to
# /etc/bash_completion.d/rpmgate (zsh: rpmgate completion zsh)
_rpmgate() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" words
  if [ "$COMP_CWORD" -eq 1 ]; then
    words="${words([...top, ...globals, '--help', '--version'])}"
  else
    case "\${COMP_WORDS[1]}" in
${cases.join('\n')}
    *) words="" ;;
    esac
  fi
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o default -F _rpmgate rpmgate
`;
}

export function zshCompletion(program: Command): string {
  return `# rpmgate completion for zsh: source <(rpmgate completion zsh)
autoload -U +X bashcompinit && bashcompinit
${bashCompletion(program).split('\n').slice(2).join('\n')}`;
}
