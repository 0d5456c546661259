// Rich (boolean) dependencies: "(a >= 1.2 or (b and c))" parsed into a tree with rpm's grammar and
// errors (lib/rpmds.c rpmrichParseInternal, parseSimpleDep, rpmdsParseRichDep), and a pure evaluator
// that asks its caller whether each atom is satisfied. Semantics: rpm.org "Boolean Dependencies".
import { RpmgateError } from '../errors.ts';
import { senseToSymbol, RPMSENSE } from './depmatch.ts';

/** A plain dependency inside a rich one: a name and, when versioned, RPMSENSE comparison bits and an EVR. */
export interface RichAtom {
  kind: 'atom';
  name: string;
  /** RPMSENSE LESS/GREATER/EQUAL bits only; 0 when unversioned. */
  flags: number;
  /** "[epoch:]version[-release]", "" when unversioned. */
  evr: string;
}

/** `(a and b and ...)`, `(a or b or ...)`, `(a with b with ...)`: the only operators rpm lets repeat. */
export interface RichChain {
  kind: 'and' | 'or' | 'with';
  operands: RichNode[];
}

/** `(a without b)`: one package that satisfies `a` but not `b`. */
export interface RichWithout {
  kind: 'without';
  left: RichNode;
  right: RichNode;
}

/** `(consequent if test [else alternate])` and `(consequent unless test [else alternate])`. */
export interface RichConditional {
  kind: 'if' | 'unless';
  consequent: RichNode;
  test: RichNode;
  alternate: RichNode | null;
}

export type RichNode = RichAtom | RichChain | RichWithout | RichConditional;

/** A malformed rich dependency: rpm's reason, and the offset in the text where it was found. */
export class RichDependencyError extends RpmgateError {
  constructor(
    readonly input: string,
    readonly offset: number,
    readonly reason: string,
  ) {
    super('bad_request', `Malformed rich dependency "${input}": ${reason} (at offset ${offset})`);
  }
}

/** rpm's test (rpmdsIsRich): a dependency whose name starts with "(" is a rich dependency. */
export function isRichDependency(name: string): boolean {
  return name.startsWith('(');
}

/** rpm's ReqComparisons (lib/rpmds.c rpmParseDSFlags): `<>` is not accepted here, unlike depmatch's symbolToSense. */
const comparisons: ReadonlyMap<string, number> = new Map([
  ['<=', RPMSENSE.LESS | RPMSENSE.EQUAL],
  ['=<', RPMSENSE.LESS | RPMSENSE.EQUAL],
  ['<', RPMSENSE.LESS],
  ['==', RPMSENSE.EQUAL],
  ['=', RPMSENSE.EQUAL],
  ['>=', RPMSENSE.GREATER | RPMSENSE.EQUAL],
  ['=>', RPMSENSE.GREATER | RPMSENSE.EQUAL],
  ['>', RPMSENSE.GREATER],
]);

type Operator = 'and' | 'or' | 'if' | 'unless' | 'else' | 'with' | 'without';
const maxNesting = 200;

const operators: ReadonlySet<string> = new Set<Operator>(['and', 'or', 'if', 'unless', 'else', 'with', 'without']);

/**
 * Parse a rich dependency as rpm does when it evaluates one (rpmrichParse + rpmdsParseRichDep):
 * whitespace and commas separate tokens, names may hold balanced parentheses ("libfoo.so.1()(64bit)"),
 * only and/or/with may be chained, `else` follows `if` or `unless`, and the operands of with/without
 * are dependencies or or/with/without groups. rpmbuild's extra per-tag checks (rpmrichParseForTag,
 * e.g. `unless` at the top of a Requires) are not applied: stored packages already passed them.
 * Throws RichDependencyError.
 */
export function parseRichDependency(text: string): RichNode {
  const parser = new RichParser(text);
  if (text[0] !== '(') parser.fail(0, "Rich dependency does not start with '('");
  const node = parser.parseGroup();
  if (parser.pos < text.length) parser.fail(parser.pos, 'Junk after rich dependency');
  return node;
}

class RichParser {
  pos = 0;

  constructor(private readonly text: string) {}

  fail(offset: number, reason: string): never {
    throw new RichDependencyError(this.text, offset, reason);
  }

  /** One parenthesized group, with `pos` on its "(". */
  parseGroup(depth = 1): RichNode {
    const start = this.pos;
    // rpm recurses without a limit; a bound keeps hostile input from exhausting the stack.
    if (depth > maxNesting) this.fail(start, `Rich dependency nested more than ${maxNesting} deep`);
    this.pos++;
    const operands: RichNode[] = [];
    const ops: Operator[] = [];
    let chain: Operator | null = null;
    for (;;) {
      this.skipWhite();
      if (this.pos >= this.text.length) this.fail(this.pos, `Unterminated rich dependency: ${this.text.slice(start)}`);
      if (this.text[this.pos] === ')') {
        this.fail(this.pos, chain ? 'Missing argument to rich dependency op' : 'Empty rich dependency');
      }
      operands.push(this.text[this.pos] === '(' ? this.parseGroup(depth + 1) : this.parseAtom());
      this.skipWhite();
      if (this.pos >= this.text.length) this.fail(this.pos, `Unterminated rich dependency: ${this.text.slice(start)}`);
      if (this.text[this.pos] === ')') break;

      const opStart = this.pos;
      const op = this.readOperator();
      if (op === 'else') {
        // rpm resets the chain after if/unless; a leading else is accepted by rpm's parser but has no
        // meaning to its evaluator, so it is refused here.
        if (chain === 'if' || chain === 'unless') chain = null;
        else if (chain === null) this.fail(opStart, "'else' without 'if' or 'unless'");
      }
      if (chain !== null && op !== chain) this.fail(opStart, 'Cannot chain different ops');
      if (chain !== null && op !== 'and' && op !== 'or' && op !== 'with') this.fail(opStart, 'Can only chain and/or/with ops');
      chain = op;
      ops.push(op);
    }
    this.pos++;
    return this.build(start, operands, ops);
  }

  private build(start: number, operands: RichNode[], ops: Operator[]): RichNode {
    const first = ops[0];
    if (first === undefined) return operands[0]!;
    switch (first) {
      case 'and':
      case 'or':
        return { kind: first, operands };
      case 'with':
      case 'without': {
        // rpm's RICHPARSE_NO_WITH: with/without combine the providers of their operands, so each operand
        // must have a provider set: an atom, or an or/with/without group.
        if (!operands.every(isProviderSet)) this.fail(start, 'Illegal ops in with/without');
        return first === 'with' ? { kind: 'with', operands } : { kind: 'without', left: operands[0]!, right: operands[1]! };
      }
      case 'if':
      case 'unless':
        return { kind: first, consequent: operands[0]!, test: operands[1]!, alternate: operands[2] ?? null };
      case 'else':
        return this.fail(start, "'else' without 'if' or 'unless'");
    }
  }

  /** parseSimpleDep: a name, then an optional comparison and EVR. */
  private parseAtom(): RichAtom {
    const nameStart = this.pos;
    this.skipNonWhite();
    const name = this.text.slice(nameStart, this.pos);
    if (name === '') this.fail(nameStart, 'Name required');
    this.skipWhite();
    const tokenStart = this.pos;
    const end = this.nonWhiteEnd(tokenStart);
    const flags = comparisons.get(this.text.slice(tokenStart, end));
    if (flags === undefined) return { kind: 'atom', name, flags: 0, evr: '' };
    this.pos = end;
    this.skipWhite();
    const evrStart = this.pos;
    this.skipNonWhite();
    const evr = this.text.slice(evrStart, this.pos);
    if (evr === '') this.fail(evrStart, 'Version required');
    return { kind: 'atom', name, flags, evr };
  }

  /** parseRichDepOp: the token up to whitespace or ")" must be an operator. */
  private readOperator(): Operator {
    const start = this.pos;
    let end = start;
    while (end < this.text.length && !isSpace(this.text.charCodeAt(end)) && this.text[end] !== ')') end++;
    const token = this.text.slice(start, end);
    if (!operators.has(token)) this.fail(start, `Unknown rich dependency op '${token}'`);
    this.pos = end;
    return token as Operator;
  }

  /** SKIPWHITE: whitespace and commas. */
  private skipWhite(): void {
    while (this.pos < this.text.length && (isSpace(this.text.charCodeAt(this.pos)) || this.text[this.pos] === ',')) this.pos++;
  }

  private skipNonWhite(): void {
    this.pos = this.nonWhiteEnd(this.pos);
  }

  /** SKIPNONWHITEX: up to whitespace, a comma, or a ")" that closes no "(" opened in the token. */
  private nonWhiteEnd(from: number): number {
    let depth = 0;
    let i = from;
    while (i < this.text.length) {
      const c = this.text[i]!;
      if (isSpace(c.charCodeAt(0)) || c === ',') break;
      if (c === ')') {
        if (depth <= 0) break;
        depth--;
      } else if (c === '(') {
        depth++;
      }
      i++;
    }
    return i;
  }
}

/** rpm's risspace: the C locale's isspace. */
function isSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

function isProviderSet(node: RichNode): boolean {
  switch (node.kind) {
    case 'atom':
      return true;
    case 'or':
    case 'with':
      return node.operands.every(isProviderSet);
    case 'without':
      return isProviderSet(node.left) && isProviderSet(node.right);
    default:
      return false;
  }
}

/** The text of a node: an atom as "name op evr", anything else parenthesized, operators spelled as rpm does. */
export function formatRichDependency(node: RichNode): string {
  switch (node.kind) {
    case 'atom':
      return formatAtom(node);
    case 'and':
    case 'or':
    case 'with':
      return `(${node.operands.map(formatRichDependency).join(` ${node.kind} `)})`;
    case 'without':
      return `(${formatRichDependency(node.left)} without ${formatRichDependency(node.right)})`;
    case 'if':
    case 'unless': {
      const alternate = node.alternate ? ` else ${formatRichDependency(node.alternate)}` : '';
      return `(${formatRichDependency(node.consequent)} ${node.kind} ${formatRichDependency(node.test)}${alternate})`;
    }
  }
}

function formatAtom(atom: RichAtom): string {
  const op = senseToSymbol(atom.flags);
  return op && atom.evr ? `${atom.name} ${op} ${atom.evr}` : atom.name;
}

/** Every atom of a tree, left to right (conditions included). */
export function richDependencyAtoms(node: RichNode): RichAtom[] {
  const atoms: RichAtom[] = [];
  const visit = (n: RichNode): void => {
    switch (n.kind) {
      case 'atom':
        atoms.push(n);
        return;
      case 'and':
      case 'or':
      case 'with':
        n.operands.forEach(visit);
        return;
      case 'without':
        visit(n.left);
        visit(n.right);
        return;
      case 'if':
      case 'unless':
        visit(n.consequent);
        visit(n.test);
        if (n.alternate) visit(n.alternate);
        return;
    }
  };
  visit(node);
  return atoms;
}

/** What the evaluator asks about the world the dependency is checked against. */
export interface RichEvaluationContext<P> {
  isSatisfied(atom: RichAtom): boolean;
  /**
   * The packages (any identity compared with ===) that satisfy an atom. Needed only for with/without,
   * which ask for one package satisfying several atoms; evaluating them without it throws.
   */
  providersOf?(atom: RichAtom): Iterable<P>;
}

/**
 * Whether a rich dependency holds, as a Requires (rpm.org boolean dependencies): `a if b` holds when
 * b does not; `a unless b` holds when b does; with `else c`, c must hold in the other case.
 */
export function evaluateRichDependency<P>(node: RichNode, context: RichEvaluationContext<P>): boolean {
  switch (node.kind) {
    case 'atom':
      return context.isSatisfied(node);
    case 'and':
      return node.operands.every((operand) => evaluateRichDependency(operand, context));
    case 'or':
      return node.operands.some((operand) => evaluateRichDependency(operand, context));
    case 'if':
    case 'unless': {
      const test = evaluateRichDependency(node.test, context);
      const takeConsequent = node.kind === 'if' ? test : !test;
      if (takeConsequent) return evaluateRichDependency(node.consequent, context);
      return node.alternate ? evaluateRichDependency(node.alternate, context) : true;
    }
    case 'with':
    case 'without':
      return richProviders(node, (atom) => {
        if (!context.providersOf) throw new Error(`evaluating "${formatRichDependency(node)}" needs providersOf`);
        return context.providersOf(atom);
      }).size > 0;
  }
}

/**
 * The packages satisfying a with/without/or/atom tree, from the providers of each atom: `or` is the
 * union, `with` the intersection, `without` the difference. Other operators have no provider set.
 */
export function richProviders<P>(node: RichNode, providersOf: (atom: RichAtom) => Iterable<P>): Set<P> {
  switch (node.kind) {
    case 'atom':
      return new Set(providersOf(node));
    case 'or': {
      const union = new Set<P>();
      for (const operand of node.operands) for (const p of richProviders(operand, providersOf)) union.add(p);
      return union;
    }
    case 'with': {
      const [first, ...rest] = node.operands.map((operand) => richProviders(operand, providersOf));
      const result = first ?? new Set<P>();
      for (const providers of rest) for (const p of result) if (!providers.has(p)) result.delete(p);
      return result;
    }
    case 'without': {
      const right = richProviders(node.right, providersOf);
      return new Set([...richProviders(node.left, providersOf)].filter((p) => !right.has(p)));
    }
    default:
      throw new Error(`"${formatRichDependency(node)}" has no provider set: only atoms and or/with/without groups do`);
  }
}
