// Every /api/v1 answer a test server gives, checked against the OpenAPI document it publishes: each
// JSON (or problem+json) body must fit the schema documented for its path, method and status (the
// operation's `default` answer when the status is not listed). The integration tests then prove the
// document true with every real answer they provoke, not with a few chosen ones. Violations are
// collected and reported when the test server closes (test/support/server.ts).
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { AppContext } from '../../server/context.ts';
import { createApp } from '../../server/http/app.ts';
import { openApiDocument } from '../../server/ops/openapi.ts';

/** Bodies larger than this are not kept for checking (a page of 100,000 hosts says nothing new). */
const maxCheckedBody = 4 * 1024 * 1024;
const checkedMediaTypes = new Set(['application/json', 'application/problem+json']);

interface OpenApiDocument {
  paths: Record<string, Record<string, { responses?: Record<string, { content?: Record<string, { schema?: unknown }> }> }>>;
}

/** Every server of a test process publishes the same document: made once. */
let documentMade: OpenApiDocument | undefined;

interface PathTemplate {
  template: string;
  pattern: RegExp;
}

export class ResponseConformance {
  readonly violations: string[] = [];
  /** Answers checked against a documented schema. */
  checked = 0;
  private readonly ajv: Ajv2020;
  private readonly templates: PathTemplate[];
  private readonly validators = new Map<string, ValidateFunction | null>();

  private constructor(private readonly document: OpenApiDocument) {
    this.ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats.default(this.ajv);
    this.ajv.addSchema(document as object, 'openapi.json');
    // Literal segments win over parameters (/api/v1/packages/check before /api/v1/packages/{nevra}).
    this.templates = Object.keys(document.paths)
      .map((template) => ({
        template,
        params: (template.match(/\{/g) ?? []).length,
        pattern: new RegExp(`^${template.replace(/[.+?^$()[\]\\|]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}$`),
      }))
      .sort((a, b) => a.params - b.params)
      .map(({ template, pattern }) => ({ template, pattern }));
  }

  /** The document a server of `context` publishes at /api/v1/openapi.json (made as that route makes it). */
  static of(context: AppContext): ResponseConformance {
    documentMade ??= JSON.parse(JSON.stringify(openApiDocument(createApp(context)))) as OpenApiDocument;
    return new ResponseConformance(documentMade);
  }

  /** Watches every answer of `server` from now on (before its own handler writes anything). */
  watch(server: Server): void {
    server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
      const pathname = (req.url ?? '').split('?')[0]!;
      if (!pathname.startsWith('/api/v1/') || pathname === '/api/v1/openapi.json') return;
      this.capture(req.method ?? 'GET', pathname, res);
    });
  }

  /** One line per answer that does not fit its documented schema; empty when all did. */
  report(): string {
    return this.violations.join('\n');
  }

  private capture(method: string, pathname: string, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    let size = 0;
    const keep = (chunk: unknown, encoding?: unknown) => {
      if (chunk === undefined || chunk === null || typeof chunk === 'function' || size > maxCheckedBody) return;
      const buffer =
        typeof chunk === 'string' ? Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8') : Buffer.from(chunk as Uint8Array);
      size += buffer.length;
      if (size <= maxCheckedBody) chunks.push(buffer);
    };
    // Headers given to writeHead() are not readable through getHeader(): noted as they pass.
    let contentType: string | undefined;
    const writeHead = res.writeHead.bind(res) as (...args: unknown[]) => ServerResponse;
    res.writeHead = ((...args: unknown[]) => {
      const headers = args.find((arg, index) => index > 0 && typeof arg === 'object' && arg !== null) as Record<string, unknown> | unknown[] | undefined;
      if (Array.isArray(headers)) {
        for (let i = 0; i + 1 < headers.length; i += 2) if (String(headers[i]).toLowerCase() === 'content-type') contentType = String(headers[i + 1]);
      } else if (headers) {
        for (const [name, value] of Object.entries(headers)) if (name.toLowerCase() === 'content-type') contentType = String(value);
      }
      return writeHead(...args);
    }) as typeof res.writeHead;
    const write = res.write.bind(res) as (...args: unknown[]) => boolean;
    const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
    res.write = ((...args: unknown[]) => {
      keep(args[0], args[1]);
      return write(...args);
    }) as typeof res.write;
    res.end = ((...args: unknown[]) => {
      keep(args[0], args[1]);
      return end(...args);
    }) as typeof res.end;
    res.once('finish', () => {
      if (method === 'HEAD' || size > maxCheckedBody) return;
      const mediaType = String(contentType ?? res.getHeader('content-type') ?? '').split(';')[0]!.trim();
      if (!checkedMediaTypes.has(mediaType)) return;
      this.check(method.toLowerCase(), pathname, res.statusCode, mediaType, Buffer.concat(chunks));
    });
  }

  private check(method: string, pathname: string, status: number, mediaType: string, body: Buffer): void {
    const template = this.templates.find((candidate) => candidate.pattern.test(pathname))?.template;
    const where = `${method.toUpperCase()} ${pathname} ${status} ${mediaType}`;
    if (!template || !this.document.paths[template]?.[method]) {
      // An unknown route answers 404 no_route, documented nowhere by nature.
      if (status !== 404 && status !== 405) this.violations.push(`${where}: no such operation in the document`);
      return;
    }
    const responses = this.document.paths[template]![method]!.responses ?? {};
    if (status < 400 && !responses[String(status)]) {
      this.violations.push(`${where} (documented as ${template}): status ${status} is not documented`);
      return;
    }
    const validate = this.validator(template, method, status, mediaType);
    if (validate === null) return;
    this.checked++;
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      this.violations.push(`${where}: the body is not JSON`);
      return;
    }
    if (!validate(parsed)) {
      const errors = (validate.errors ?? []).slice(0, 3).map((error) => `${error.instancePath || '/'} ${error.message}`).join('; ');
      this.violations.push(`${where} (documented as ${template}): ${errors}`);
    }
  }

  /** The schema for the answer, or null when the document gives none (no content for that status). */
  private validator(template: string, method: string, status: number, mediaType: string): ValidateFunction | null {
    const key = `${method} ${template} ${status} ${mediaType}`;
    if (this.validators.has(key)) return this.validators.get(key)!;
    const responses = this.document.paths[template]![method]!.responses ?? {};
    const statusKey = responses[String(status)] ? String(status) : responses.default ? 'default' : null;
    const schema = statusKey ? responses[statusKey]!.content?.[mediaType]?.schema : undefined;
    let validate: ValidateFunction | null = null;
    if (schema !== undefined) {
      const pointer = ['paths', template, method, 'responses', statusKey!, 'content', mediaType, 'schema']
        .map((part) => part.replaceAll('~', '~0').replaceAll('/', '~1'))
        .join('/');
      validate = this.ajv.compile({ $ref: `openapi.json#/${pointer}` });
    }
    this.validators.set(key, validate);
    return validate;
  }
}
