/**
 * The filter-pattern engine beyond the user guide's examples (those are in
 * filter-pattern-guide.test.ts): the laws of the language as properties, the choices made where
 * the guide is silent, invalid patterns and their messages, extraction for metric filters, and
 * that matching stays linear on hostile input.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileFilterPattern, FilterPatternError, filterPatternRegexCount, MAX_PATTERN_LENGTH } from '../../../src/local/filter-pattern/index.js';
import { readJson } from '../../../src/local/filter-pattern/json.js';

const matches = (pattern: string, message: string) => compileFilterPattern(pattern).matches(message);
/** Quotes a phrase the way the pattern language reads it back. */
const quote = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

const word = fc.stringMatching(/^[A-Za-z0-9_]{1,8}$/);
const words = fc.array(word, { minLength: 1, maxLength: 8 });
const message = fc.oneof(fc.string({ maxLength: 60 }), words.map((w) => w.join(' ')), fc.json({ maxDepth: 3 }));

describe('terms: properties', () => {
  it('any word of a message, as a term, matches it', () => {
    fc.assert(
      fc.property(words, fc.nat(), (ws, i) => {
        const msg = ws.join(' ');
        expect(matches(ws[i % ws.length]!, msg)).toBe(true);
      }),
    );
  });

  it('any non-blank substring of any message, quoted, matches it', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 40 }), fc.nat(), fc.nat(), (msg, a, b) => {
        const from = a % msg.length;
        const sub = msg.slice(from, from + 1 + (b % (msg.length - from)));
        expect(matches(quote(sub), msg)).toBe(true);
      }),
    );
  });

  it('a term matches exactly when the message contains it (case-sensitive)', () => {
    fc.assert(
      fc.property(word, message, (t, msg) => {
        expect(matches(t, msg)).toBe(msg.includes(t));
      }),
    );
    expect(matches('ERROR', 'error')).toBe(false);
  });

  it('-t is not(t)', () => {
    fc.assert(
      fc.property(word, message, (t, msg) => {
        expect(matches(`-${t}`, msg)).toBe(!matches(t, msg));
      }),
    );
  });

  it('?a ?b is a or b; a b is a and b; a -b is a and not b', () => {
    fc.assert(
      fc.property(word, word, message, (a, b, msg) => {
        expect(matches(`?${a} ?${b}`, msg)).toBe(matches(a, msg) || matches(b, msg));
        expect(matches(`${a} ${b}`, msg)).toBe(matches(a, msg) && matches(b, msg));
        expect(matches(`${a} -${b}`, msg)).toBe(matches(a, msg) && !matches(b, msg));
      }),
    );
  });

  it('ignores ? terms once the pattern has a required or excluded term (user guide note)', () => {
    fc.assert(
      fc.property(word, word, message, (a, b, msg) => {
        expect(matches(`?${a} ${b}`, msg)).toBe(matches(b, msg));
        expect(matches(`?${a} -${b}`, msg)).toBe(!matches(b, msg));
      }),
    );
  });

  it('the order of terms does not matter', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom('', '?', '-'), word), { minLength: 1, maxLength: 5 }), message, (ts, msg) => {
        const p = ts.map(([m, w]) => m + w);
        expect(matches([...p].reverse().join(' '), msg)).toBe(matches(p.join(' '), msg));
      }),
    );
  });
});

describe('terms: choices where the guide is silent', () => {
  it('matches everything with an empty or blank pattern, and with a quoted blank', () => {
    for (const p of ['', '   ', '\t\n', '" "', '""']) {
      expect(matches(p, ''), JSON.stringify(p)).toBe(true);
      expect(matches(p, 'anything'), JSON.stringify(p)).toBe(true);
    }
  });

  it('reads \\" and \\\\ inside a quoted phrase', () => {
    expect(matches('"say \\"hi\\""', 'they say "hi" twice')).toBe(true);
    expect(matches('"C:\\\\temp"', 'dir C:\\temp')).toBe(true);
    expect(matches('-"disk full" ERROR', 'ERROR disk full')).toBe(false);
    expect(matches('ERROR "disk full"', 'ERROR: disk full on /dev/sda')).toBe(true);
    expect(matches('ERROR "disk full"', 'ERROR: disk nearly full')).toBe(false);
  });

  it('is a substring search, so a term also finds longer words (the guide: ERROR finds ERRORCODE)', () => {
    expect(matches('ERROR', 'Exiting with ERRORCODE: -1')).toBe(true);
  });

  it('finds terms made of non-Latin letters and digits', () => {
    expect(matches('café', 'un café noir')).toBe(true);
    expect(matches('错误', '发生错误')).toBe(true);
    expect(matches('नमस्ते', 'नमस्ते दुनिया')).toBe(true); // combining marks are part of the word
  });
});

describe('JSON: properties', () => {
  const key = fc.stringMatching(/^[A-Za-z0-9_-]{1,6}$/);
  const leaf = fc.oneof(fc.string({ maxLength: 12 }), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer(), fc.boolean(), fc.constant(null));
  type J = unknown;
  const tree: fc.Arbitrary<J> = fc.letrec<{ node: J }>((tie) => ({
    node: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      leaf,
      fc.array(tie('node'), { maxLength: 3 }),
      fc.dictionary(key, tie('node'), { maxKeys: 4 }),
    ),
  })).node;
  const root = fc.dictionary(key, tree, { minKeys: 1, maxKeys: 5 });

  /** Every leaf of a value with the selector that reaches it. */
  function leaves(v: J, path: string, out: [string, J][]): [string, J][] {
    if (Array.isArray(v)) v.forEach((x, i) => leaves(x, `${path}[${i}]`, out));
    else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) leaves(x, `${path}.${k}`, out);
    else out.push([path, v]);
    return out;
  }

  /** The condition that says "this leaf has this value". */
  function equality(sel: string, v: J): string {
    if (v === null) return `${sel} IS NULL`;
    if (typeof v === 'boolean') return `${sel} IS ${v ? 'TRUE' : 'FALSE'}`;
    if (typeof v === 'number') return `${sel} = ${JSON.stringify(v)}`;
    return `${sel} = ${quote(String(v))}`;
  }

  it('an equality pattern built from any leaf of an object matches its JSON.stringify', () => {
    fc.assert(
      fc.property(root, fc.nat(), (obj, i) => {
        const ls = leaves(obj, '$', []);
        fc.pre(ls.length > 0);
        const [sel, v] = ls[i % ls.length]!;
        const msg = JSON.stringify(obj);
        expect(matches(`{ ${equality(sel, v)} }`, msg), `${equality(sel, v)} on ${msg}`).toBe(true);
        expect(matches(`{ ${sel} NOT EXISTS }`, msg)).toBe(false);
        expect(matches(`{ ${sel} = * }`, msg)).toBe(typeof v === 'string' || typeof v === 'number');
      }),
    );
  });

  it('&& and || of leaf equalities behave as and / or, with && binding tighter', () => {
    fc.assert(
      fc.property(root, fc.array(fc.tuple(fc.nat(), fc.boolean()), { minLength: 3, maxLength: 3 }), (obj, picks) => {
        const ls = leaves(obj, '$', []);
        fc.pre(ls.length > 0);
        const msg = JSON.stringify(obj);
        // Each condition is either true (the leaf's own value) or false (a value no generated leaf has).
        const conds = picks.map(([i, truth]) => {
          const [sel, v] = ls[i % ls.length]!;
          return { text: truth ? equality(sel, v) : `${sel} = "\\"never\\""`, truth };
        });
        const [a, b, c] = conds as [(typeof conds)[0], (typeof conds)[0], (typeof conds)[0]];
        expect(matches(`{ ${a.text} || ${b.text} && ${c.text} }`, msg)).toBe(a.truth || (b.truth && c.truth));
        expect(matches(`{ (${a.text} || ${b.text}) && ${c.text} }`, msg)).toBe((a.truth || b.truth) && c.truth);
      }),
    );
  });

  it('reads JSON as JSON.parse does, keeping each number as written', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const text = JSON.stringify(v);
        const toPlain = (n: ReturnType<typeof readJson>): unknown => {
          if (n === undefined) return Symbol('not JSON');
          switch (n.t) {
            case 'object':
              return Object.fromEntries([...n.fields].map(([k, x]) => [k, toPlain(x)]));
            case 'array':
              return n.items.map(toPlain);
            case 'null':
              return null;
            default:
              return n.value;
          }
        };
        expect(toPlain(readJson(text))).toEqual(JSON.parse(text));
      }),
    );
    for (const bad of ['', '{', '{"a":}', '[1,]', '01', '"\\x"', '{"a" 1}', 'tru', '1 2']) expect(readJson(bad), bad).toBeUndefined();
  });
});

describe('JSON: choices where the guide is silent', () => {
  it('never matches a message that is not a JSON object or array, NOT EXISTS included', () => {
    for (const msg of ['', 'plain text', '{not json', '42', '"str"', 'null', 'INFO {"a": 1}']) {
      expect(matches('{ $.a NOT EXISTS }', msg), msg).toBe(false);
      expect(matches('{ $.a = * }', msg), msg).toBe(false);
    }
    expect(matches('{ $.a NOT EXISTS }', '  {"b": 1}  ')).toBe(true);
  });

  it('compares = and != only at strings and numbers: absent, object, array, boolean and null compare false both ways', () => {
    for (const v of ['absent', { x: 1 }, [1], true, null]) {
      const msg = JSON.stringify(v === 'absent' ? { other: 1 } : { a: v });
      expect(matches('{ $.a = * }', msg), msg).toBe(false);
      expect(matches('{ $.a = "*" }', msg), msg).toBe(false);
      expect(matches('{ $.a = 1 }', msg), msg).toBe(false);
      expect(matches('{ $.a != 1 }', msg), msg).toBe(false);
      expect(matches('{ $.a != "x" }', msg), msg).toBe(false);
    }
  });

  it('compares numbers numerically, and only JSON numbers (a numeric string is a string)', () => {
    expect(matches('{ $.n = 1000 }', '{"n": 1e3}')).toBe(true);
    expect(matches('{ $.n > -1.5 }', '{"n": -1}')).toBe(true);
    expect(matches('{ $.n > 5 }', '{"n": "10"}')).toBe(false);
    expect(matches('{ $.n = "10" }', '{"n": "10"}')).toBe(true);
  });

  it('compares string values with numbers as the event writes them (so 5* finds 500)', () => {
    expect(matches('{ $.n = 5* }', '{"n": 500}')).toBe(true);
    expect(matches('{ $.n = "1.50" }', '{"n": 1.50}')).toBe(true);
    expect(matches('{ $.n = 4* }', '{"n": 500}')).toBe(false);
  });

  it('matches a wildcard selector when any element does, and NOT EXISTS when there is none', () => {
    expect(matches('{ $.a[*].id = 2 }', '{"a": [{"id": 1}, {"id": 2}]}')).toBe(true);
    expect(matches('{ $.a[*].id != 1 }', '{"a": [{"id": 1}, {"id": 2}]}')).toBe(true);
    expect(matches('{ $.a[*].id != 1 }', '{"a": [{"id": 1}]}')).toBe(false);
    expect(matches('{ $.a[*] NOT EXISTS }', '{"a": []}')).toBe(true);
    expect(matches('{ $.a[*] NOT EXISTS }', '{"a": [0]}')).toBe(false);
  });

  it('takes keywords in any case, and selectors in bracket notation with either quote', () => {
    expect(matches('{ $.a is null }', '{"a": null}')).toBe(true);
    expect(matches('{ $.a Not Exists }', '{}')).toBe(true);
    expect(matches('{ $["a b"] = 1 }', '{"a b": 1}')).toBe(true);
    expect(matches("{ $.x['y.z'][1] = 2 }", '{"x": {"y.z": [1, 2]}}')).toBe(true);
  });

  it('uses the last of repeated keys, as JSON.parse does', () => {
    expect(matches('{ $.a = 2 }', '{"a": 1, "a": 2}')).toBe(true);
    expect(matches('{ $.a = 1 }', '{"a": 1, "a": 2}')).toBe(false);
  });
});

describe('space-delimited: properties and choices', () => {
  const field = fc.stringMatching(/^[A-Za-z0-9_.:/-]{1,8}$/);

  it('a pattern naming every field, each equal to its own value, matches; $N and $name extract them', () => {
    fc.assert(
      fc.property(fc.array(field, { minLength: 1, maxLength: 8 }), (fs) => {
        const msg = fs.join(' ');
        const p = compileFilterPattern(`[${fs.map((f, i) => `f${i} = ${quote(f)}`).join(', ')}]`);
        expect(p.matches(msg)).toBe(true);
        fs.forEach((f, i) => {
          expect(p.extract(msg, `$f${i}`)).toBe(f);
          expect(p.extract(msg, `$${i + 1}`)).toBe(f);
        });
      }),
    );
  });

  it('[..., last] always sees the last field and [first, ...] the first', () => {
    fc.assert(
      fc.property(fc.array(field, { minLength: 1, maxLength: 8 }), (fs) => {
        const msg = fs.join('  ');
        expect(compileFilterPattern('[..., last]').extract(msg, '$last')).toBe(fs.at(-1));
        expect(compileFilterPattern('[first, ...]').extract(msg, '$first')).toBe(fs[0]);
      }),
    );
  });

  it('reads "…" and […] as one field each, and gives the rest of the line to the last field', () => {
    const p = compileFilterPattern('[a, b, c]');
    const msg = 'x "quoted field" [bracketed field] tail words';
    expect(p.matches(msg)).toBe(true);
    expect(p.extract(msg, '$b')).toBe('quoted field');
    expect(p.extract(msg, '$c')).toBe('[bracketed field] tail words');
    expect(compileFilterPattern('[a, b, c, d]').extract('x "y z" [w v] u', '$c')).toBe('w v');
  });

  it('does not match a line with fewer fields than the pattern names', () => {
    expect(matches('[a, b, c]', 'one two')).toBe(false);
    expect(matches('[a, ..., b, c]', 'one two')).toBe(false);
    expect(matches('[a, ..., b]', 'one two')).toBe(true);
  });

  it('reads [] as no condition at all: every message matches, its fields numbered', () => {
    const p = compileFilterPattern('[ ]');
    expect(p.matches('')).toBe(true);
    expect(p.matches('a "b c" [d]')).toBe(true);
    expect(p.extract('a "b c" [d]', '$2')).toBe('b c');
  });

  it('compares numbers only when the field is a number', () => {
    expect(matches('[a, bytes > 1000]', 'x 1500')).toBe(true);
    expect(matches('[a, bytes > 1000]', 'x -')).toBe(false);
    expect(matches('[a, bytes != 1000]', 'x -')).toBe(false);
    expect(matches('[a, code = 200]', 'x 200.0')).toBe(true);
  });

  it('lets a condition test another field, before or after it', () => {
    expect(matches('[a = x && b > 1, b]', 'x 2')).toBe(true);
    expect(matches('[a = x && b > 1, b]', 'x 0')).toBe(false);
    expect(matches('[a, b = 2 || a = y]', 'y 3')).toBe(true);
    expect(matches('[(a = 1 || a = 2), b]', '2 z')).toBe(true);
  });
});

describe('invalid patterns', () => {
  const invalid: [string, RegExp][] = [
    ['x'.repeat(MAX_PATTERN_LENGTH + 1), /1025 characters long; at most 1024/],
    ['ERROR:', /invalid character ":" .*column 6/],
    ['user@example.com', /invalid character "@"/],
    ['"unterminated', /unterminated quoted string \(at column 1\)/],
    ['- ERROR', /"-" must be followed by a term/],
    ['?', /"\?" must be followed by a term/],
    ['%abc', /unterminated regular expression/],
    ['%a%b%', /must be the whole pattern/],
    ['%%', /empty regular expression/],
    ['%a**%', /must follow a character.*column 4/],
    ['%a{2,1}%', /minimum above its maximum/],
    ['%a{x}%', /must start a repetition/],
    ['%[abc%', /unterminated character class/],
    ['%a}%', /unbalanced "}"/],
    ['%\\b%', /unsupported escape "\\b"/],
    ['%\\x4%', /two hexadecimal digits/],
    ['{ $.a = 1', /expected "}" to close the "{" at column 1/],
    ['{ $.a = 1 }}', /unexpected "}" after the closing "}"/],
    ['{ $.a ~ 1 }', /expected an operator.*found "~" \(at column 7\)/],
    ['{ a = 1 }', /property selector starting with "\$\."/],
    ['{ $. = 1 }', /expected a property name/],
    ['{ $.a > abc }', /the operator > compares numbers/],
    ['{ $.a = }', /expected a value/],
    ['{ $.a = a:b }', /invalid character ":" in a value/],
    ['{ ($.a = 1 }', /expected "\)" to close the "\(" at column 3/],
    ['{ $.a = 1 && }', /property selector/],
    ['{ $.a IS MAYBE }', /TRUE, FALSE or NULL/],
    ['{ $.a NOT THERE }', /expected EXISTS after NOT/],
    ['{ $.a[x] = 1 }', /array index/],
    ['{}', /empty JSON pattern/],
    ['[a, b', /expected "\]" to close the "\["/],
    ['[a, a]', /"a" is used for two fields \(at column 5\)/],
    ['[..., ...]', /only one ellipsis/],
    ['[a = x && c = 1, b]', /refers to "c", which is not one of the pattern's fields \(at column 11\)/],
    ['[ip, user, username, timestamp, request, status_code = 4* && bytes > 1000]', /refers to "bytes"/],
    ['[a] x', /after the closing "\]"/],
    ['[a b]', /expected an operator/],
  ];
  it.each(invalid)('rejects %s', (pattern, message) => {
    let error: unknown;
    try {
      compileFilterPattern(pattern);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(FilterPatternError);
    expect((error as Error).name).toBe('FilterPatternError');
    expect((error as Error).message).toMatch(/^Invalid filter pattern: /);
    expect((error as Error).message).toMatch(message);
  });

  it('accepts a pattern of exactly 1,024 characters', () => {
    expect(() => compileFilterPattern(`"${'x'.repeat(MAX_PATTERN_LENGTH - 2)}"`)).not.toThrow();
  });

  it('rejects a non-string with FilterPatternError', () => {
    expect(() => compileFilterPattern(42 as unknown as string)).toThrow(FilterPatternError);
  });
});

describe('robustness', () => {
  // Strings drawn from the language's own alphabet reach deep into the parsers.
  const piece = fc.constantFrom(
    '{', '}', '[', ']', '(', ')', '$', '$.', '.', '*', '[*]', '[0]', "['a.b']", 'a', 'ERROR', '"', '"x y"', '\\', '%', '%a.b%', '=', '!=',
    '<', '>=', '&&', '||', ',', '...', '?', '-', 'IS', 'NOT', 'EXISTS', 'NULL', 'TRUE', '1', '-1.5e3', ' ', '  ', '\t', 'x*', '^', '{2,3}',
    '\\d', '\\x3A', '!', '@', 'é', '日',
  );
  const patternish = fc.oneof(fc.string({ maxLength: 40 }), fc.array(piece, { maxLength: 16 }).map((ps) => ps.join('')));

  it('compiling throws nothing but FilterPatternError, whatever the input', () => {
    fc.assert(
      fc.property(patternish, (p) => {
        try {
          compileFilterPattern(p);
        } catch (e) {
          expect(e).toBeInstanceOf(FilterPatternError);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('matching and extracting never throw, whatever the message', () => {
    const patterns = [
      'ERROR -x ?y "a b"',
      '%^a.*[0-9]{2,}$%',
      '{ $.a = 1 || $.b[*] = %x% && ($.c.* != "y" || $.d NOT EXISTS) }',
      '{ $.a IS TRUE }',
      '[a, b = 4* || b > 10, ..., c]',
      '[a, b]',
    ].map(compileFilterPattern);
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 80 }), fc.json({ maxDepth: 4 }), patternish), (msg) => {
        for (const p of patterns) {
          expect(typeof p.matches(msg)).toBe('boolean');
          const v = p.extract(msg, '$.a');
          expect(v === undefined || typeof v === 'string' || typeof v === 'number').toBe(true);
          p.extract(msg, '$b');
          p.extract(msg, 'not a selector');
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('treats JSON nested too deeply as not JSON instead of exhausting the stack', () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    expect(matches('{ $[0] NOT EXISTS }', deep)).toBe(false);
    expect(matches('[a]', deep)).toBe(true);
  });

  it('walks a wildcard over an array longer than the argument limit', () => {
    const big = JSON.stringify({ a: Array.from({ length: 300_000 }, (_, i) => i) });
    expect(matches('{ $.a[*] = 299999 }', big)).toBe(true);
  });
});

describe('performance: matching is linear in the message', () => {
  // Terms are searched with includes(), never turned into a regex: a term made of regex
  // metacharacters is literal text and cannot backtrack.
  const long = `${'a'.repeat(200_000)}!`;

  it('finds quoted terms of regex metacharacters literally and fast', () => {
    const p = compileFilterPattern('"(a+)+$" "(a|aa)*b" ?x');
    const t0 = performance.now();
    for (let i = 0; i < 50; i++) expect(p.matches(long)).toBe(false);
    expect(p.matches('x (a+)+$ (a|aa)*b')).toBe(true);
    expect(performance.now() - t0).toBeLessThan(2_000);
  });

  it('matches 10 MB of events with every kind of pattern in well under the time a backtracking regex would take', () => {
    const events = Array.from({ length: 1_000 }, (_, i) =>
      i % 2 === 0
        ? JSON.stringify({ level: i % 4 === 0 ? 'error' : 'info', latency: i, pad: 'p'.repeat(10_000) })
        : `127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /x${i}.html HTTP/1.0" ${400 + (i % 3)} ${i} ${'q'.repeat(10_000)}`,
    );
    const patterns = ['frank -"/x1.html" "HTTP/1.0"', '{ $.level = "error" && $.latency > 100 }', '[ip, ..., status = 4*, bytes > 10, pad]', '%frank \\[10%'].map(
      compileFilterPattern,
    );
    const t0 = performance.now();
    const counts = patterns.map((p) => events.filter((e) => p.matches(e)).length);
    expect(counts).toEqual([499, 224, 495, 500]);
    expect(performance.now() - t0).toBeLessThan(5_000);
  });
});

describe('extract (metric filter values)', () => {
  it('returns JSON numbers as numbers and strings as strings, from matching messages only', () => {
    const p = compileFilterPattern('{ $.level = "error" }');
    expect(p.extract('{"level": "error", "latency": 12.5, "id": "x", "o": {}, "t": true}', '$.latency')).toBe(12.5);
    expect(p.extract('{"level": "error", "id": "x"}', '$.id')).toBe('x');
    expect(p.extract('{"level": "error", "o": {}}', '$.o')).toBeUndefined();
    expect(p.extract('{"level": "error", "t": true}', '$.t')).toBeUndefined();
    expect(p.extract('{"level": "info", "latency": 1}', '$.latency')).toBeUndefined();
    expect(p.extract('{"level": "error"}', '$.missing')).toBeUndefined();
    expect(p.extract('{"level": "error"}', '$bytes')).toBeUndefined();
  });

  it('extracts space-delimited fields by name and by position', () => {
    const p = compileFilterPattern('[ip, user, username, timestamp, request, status_code, bytes]');
    const msg = '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 200 1534';
    expect(p.extract(msg, '$bytes')).toBe('1534');
    expect(p.extract(msg, '$7')).toBe('1534');
    expect(p.extract(msg, '$request')).toBe('GET /apache_pb.gif HTTP/1.0');
    expect(p.extract(msg, '$nope')).toBeUndefined();
    expect(p.extract('too short', '$bytes')).toBeUndefined();
  });

  it('counts the regexes of a pattern, for the per-log-group quota of regex filters', () => {
    const count = (p: string) => filterPatternRegexCount(compileFilterPattern(p));
    expect(count('ERROR "%x%"')).toBe(0);
    expect(count('%x%')).toBe(1);
    expect(count('{ $.a = %x% || $.b = %y% }')).toBe(2);
    expect(count('[a = %x%, b]')).toBe(1);
    expect(count('{ $.a = 1 }')).toBe(0);
    expect(filterPatternRegexCount({ source: '%x%', matches: () => true, extract: () => undefined })).toBe(0);
  });

  it('keeps the source and answers for terms and regex patterns too', () => {
    const p = compileFilterPattern(' ERROR ');
    expect(p.source).toBe(' ERROR ');
    expect(p.extract('ERROR {"a": 1}', '$.a')).toBeUndefined(); // not JSON
    expect(compileFilterPattern('a').extract('{"a": 2}', '$.a')).toBe(2);
  });
});
