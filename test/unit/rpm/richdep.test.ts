// Rich dependencies: rpm's grammar (lib/rpmds.c rpmrichParseInternal), its error messages, and the
// evaluator's semantics (rpm.org boolean dependencies).
import { describe, expect, it } from 'vitest';
import { RPMSENSE } from '../../../common/rpm/depmatch.ts';
import {
  RichDependencyError,
  evaluateRichDependency,
  formatRichDependency,
  isRichDependency,
  parseRichDependency,
  richDependencyAtoms,
  type RichAtom,
} from '../../../common/rpm/richdep.ts';

const GE = RPMSENSE.GREATER | RPMSENSE.EQUAL;

function atom(name: string, flags = 0, evr = ''): RichAtom {
  return { kind: 'atom', name, flags, evr };
}

/** Evaluate against a world where exactly the given packages are present, each providing the listed atom names. */
function holds(text: string, present: Record<string, string[]>): boolean {
  const providers = (a: RichAtom): string[] => Object.keys(present).filter((pkg) => present[pkg]!.includes(a.name));
  return evaluateRichDependency(parseRichDependency(text), {
    isSatisfied: (a) => providers(a).length > 0,
    providersOf: providers,
  });
}

describe('isRichDependency', () => {
  it('recognises a rich dependency by its opening parenthesis, as rpmdsIsRich does', () => {
    expect(isRichDependency('(a or b)')).toBe(true);
    expect(isRichDependency('libfoo.so.1()(64bit)')).toBe(false);
    expect(isRichDependency('perl(Foo::Bar)')).toBe(false);
  });
});

describe('parseRichDependency', () => {
  it('parses versioned atoms with every rpm comparison spelling', () => {
    expect(parseRichDependency('(foo >= 1.2 or bar)')).toEqual({ kind: 'or', operands: [atom('foo', GE, '1.2'), atom('bar')] });
    expect(parseRichDependency('(a => 1:2.0-3 and b =< 2 and c == 3 and d < 4 and e > 5)')).toEqual({
      kind: 'and',
      operands: [
        atom('a', GE, '1:2.0-3'),
        atom('b', RPMSENSE.LESS | RPMSENSE.EQUAL, '2'),
        atom('c', RPMSENSE.EQUAL, '3'),
        atom('d', RPMSENSE.LESS, '4'),
        atom('e', RPMSENSE.GREATER, '5'),
      ],
    });
  });

  it('keeps balanced parentheses inside names', () => {
    expect(parseRichDependency('(libfoo.so.1()(64bit) or perl(Foo::Bar) >= 1.0)')).toEqual({
      kind: 'or',
      operands: [atom('libfoo.so.1()(64bit)'), atom('perl(Foo::Bar)', GE, '1.0')],
    });
  });

  it('treats commas and any whitespace as separators', () => {
    expect(parseRichDependency('(a,\vor\t,b\n)')).toEqual({ kind: 'or', operands: [atom('a'), atom('b')] });
    // parseRichDepOp reads an operator up to whitespace or ")": a comma there is part of the token.
    expect(() => parseRichDependency('(a or,b)')).toThrow("Unknown rich dependency op 'or,b'");
    expect(parseRichDependency('( a  or\tb )')).toEqual({ kind: 'or', operands: [atom('a'), atom('b')] });
  });

  it('chains and, or and with into one n-ary node', () => {
    expect(parseRichDependency('(a and b and c)')).toEqual({ kind: 'and', operands: [atom('a'), atom('b'), atom('c')] });
    expect(parseRichDependency('(a with b with c)')).toEqual({ kind: 'with', operands: [atom('a'), atom('b'), atom('c')] });
  });

  it('parses if, unless and their else', () => {
    expect(parseRichDependency('(a if b)')).toEqual({ kind: 'if', consequent: atom('a'), test: atom('b'), alternate: null });
    expect(parseRichDependency('(a if b else c)')).toEqual({ kind: 'if', consequent: atom('a'), test: atom('b'), alternate: atom('c') });
    expect(parseRichDependency('(a unless b)')).toEqual({ kind: 'unless', consequent: atom('a'), test: atom('b'), alternate: null });
    expect(parseRichDependency('(a unless b else c)')).toEqual({ kind: 'unless', consequent: atom('a'), test: atom('b'), alternate: atom('c') });
    expect(parseRichDependency('(a without b)')).toEqual({ kind: 'without', left: atom('a'), right: atom('b') });
  });

  it('nests groups arbitrarily', () => {
    const node = parseRichDependency('((a >= 1 or (b with c)) and (d if (e or f) else (g unless h)))');
    expect(node).toEqual({
      kind: 'and',
      operands: [
        { kind: 'or', operands: [atom('a', GE, '1'), { kind: 'with', operands: [atom('b'), atom('c')] }] },
        {
          kind: 'if',
          consequent: atom('d'),
          test: { kind: 'or', operands: [atom('e'), atom('f')] },
          alternate: { kind: 'unless', consequent: atom('g'), test: atom('h'), alternate: null },
        },
      ],
    });
    expect(richDependencyAtoms(node).map((a) => a.name)).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']);
  });

  it('reads a parenthesized single atom as that atom', () => {
    expect(parseRichDependency('((a) or b)')).toEqual({ kind: 'or', operands: [atom('a'), atom('b')] });
  });

  it('formats back to the canonical text', () => {
    const text = '((a >= 1 or (b with c)) and (d if (e or f) else (g unless h)))';
    expect(formatRichDependency(parseRichDependency(text))).toBe(text);
    expect(formatRichDependency(parseRichDependency('(a => 1 or ((b)))'))).toBe('(a >= 1 or b)');
  });

  it('refuses nesting deep enough to exhaust the stack, with a clear reason', () => {
    const deep = `${'('.repeat(5000)}a${')'.repeat(5000)}`;
    expect(() => parseRichDependency(deep)).toThrow('Rich dependency nested more than 200 deep');
    expect(parseRichDependency(`${'('.repeat(200)}a${')'.repeat(200)}`)).toEqual(atom('a'));
  });

  describe('refuses malformed input with rpm’s reasons', () => {
    const cases: [string, string, number][] = [
      ['a or b', "Rich dependency does not start with '('", 0],
      ['()', 'Empty rich dependency', 1],
      ['(a and)', 'Missing argument to rich dependency op', 6],
      ['(a and b', 'Unterminated rich dependency: (a and b', 8],
      ['(a or (b and c)', 'Unterminated rich dependency: (a or (b and c)', 15],
      ['(a xor b)', "Unknown rich dependency op 'xor'", 3],
      ['(a b)', "Unknown rich dependency op 'b'", 3],
      ['(a >=1.0)', "Unknown rich dependency op '>=1.0'", 3],
      ['(a >= )', 'Version required', 6],
      ['(a and b or c)', 'Cannot chain different ops', 9],
      ['(a if b if c)', 'Can only chain and/or/with ops', 8],
      ['(a without b without c)', 'Can only chain and/or/with ops', 13],
      ['(a if b else c else d)', 'Can only chain and/or/with ops', 15],
      ['(a if b else c or d)', 'Cannot chain different ops', 15],
      ['(a else b)', "'else' without 'if' or 'unless'", 3],
      ['((a and b) with c)', 'Illegal ops in with/without', 0],
      ['(a without (b if c))', 'Illegal ops in with/without', 0],
      ['(a or b) c', 'Junk after rich dependency', 8],
      ['(a or b))', 'Junk after rich dependency', 8],
    ];
    for (const [text, reason, offset] of cases) {
      it(`"${text}": ${reason}`, () => {
        let error: unknown;
        try {
          parseRichDependency(text);
        } catch (caught) {
          error = caught;
        }
        expect(error).toBeInstanceOf(RichDependencyError);
        const richError = error as RichDependencyError;
        expect(richError.reason).toBe(reason);
        expect(richError.offset).toBe(offset);
        expect(richError.code).toBe('bad_request');
        expect(richError.message).toContain(text);
      });
    }
  });
});

describe('evaluateRichDependency', () => {
  it('and needs every operand, or any', () => {
    expect(holds('(a and b)', { p: ['a', 'b'] })).toBe(true);
    expect(holds('(a and b)', { p: ['a'] })).toBe(false);
    expect(holds('(a or b)', { p: ['b'] })).toBe(true);
    expect(holds('(a or b)', {})).toBe(false);
  });

  it('a if b: holds when b is absent, otherwise needs a; else c applies when b is absent', () => {
    expect(holds('(a if b)', {})).toBe(true);
    expect(holds('(a if b)', { p: ['b'] })).toBe(false);
    expect(holds('(a if b)', { p: ['b'], q: ['a'] })).toBe(true);
    expect(holds('(a if b else c)', {})).toBe(false);
    expect(holds('(a if b else c)', { q: ['c'] })).toBe(true);
  });

  it('a unless b: holds when b is present, otherwise needs a; else c applies when b is present', () => {
    expect(holds('(a unless b)', { p: ['b'] })).toBe(true);
    expect(holds('(a unless b)', {})).toBe(false);
    expect(holds('(a unless b)', { q: ['a'] })).toBe(true);
    expect(holds('(a unless b else c)', { p: ['b'] })).toBe(false);
    expect(holds('(a unless b else c)', { p: ['b'], q: ['c'] })).toBe(true);
  });

  it('with needs one package satisfying every operand; without one satisfying the left but not the right', () => {
    expect(holds('(a with b)', { p: ['a'], q: ['b'] })).toBe(false);
    expect(holds('(a with b)', { p: ['a', 'b'] })).toBe(true);
    expect(holds('((a or c) with b with d)', { p: ['c', 'b', 'd'] })).toBe(true);
    expect(holds('(a without b)', { p: ['a', 'b'] })).toBe(false);
    expect(holds('(a without b)', { p: ['a', 'b'], q: ['a'] })).toBe(true);
  });

  it('passes atoms with their version to the callback', () => {
    const seen: RichAtom[] = [];
    evaluateRichDependency(parseRichDependency('(foo >= 1.2 or bar)'), {
      isSatisfied: (a) => {
        seen.push(a);
        return false;
      },
    });
    expect(seen).toEqual([atom('foo', GE, '1.2'), atom('bar')]);
  });

  it('refuses to evaluate with/without without a provider callback', () => {
    expect(() => evaluateRichDependency(parseRichDependency('(a with b)'), { isSatisfied: () => true })).toThrow(/providersOf/);
  });
});
