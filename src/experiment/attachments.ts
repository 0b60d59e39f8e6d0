/**
 * @module experiment/attachments
 * Named, media-typed attachments of one scope (the experiment, or one run): logging into a blob
 * batch, and reading back through the registry (every read digest-verified).
 */
import { open, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ioError, RunledgerError } from '../errors.js';
import { canonicalJsonBytes, type JsonValue } from '../oci/canonical-json.js';
import { parseDescriptor } from '../oci/descriptor.js';
import { isMediaType } from '../oci/media-types.js';
import type { Descriptor } from '../oci/types.js';
import type { BlobBatch } from '../store/blob-batch.js';
import type { LocalRegistry } from '../store/local-registry.js';
import type { BlobInfo, Progress } from '../store/types.js';
import { assertCodec, encodeWith, type AttachmentCodec } from './codec.js';
import { detectMediaType, validateFilename } from '../formats/media-type.js';
import { decodePayload, type EncodedPayload, type OmmxPayload } from './payloads.js';
import { ommxPayloadType, type OmmxMessageKind } from '../ommx/media-types.js';
import {
  logicalMediaType,
  parseCompression,
  storedMediaType,
  ZSTD_ANNOTATION,
  type Compression,
} from './compression.js';
import { compressZstd, decompressZstd } from '../formats/zstd.js';

/** One attachment as recorded. */
export interface AttachmentRecord {
  readonly name: string;
  /** The layer descriptor as stored (media type with `+zstd` when compressed). */
  readonly descriptor: Descriptor;
  /** The logical media type (what was logged). */
  readonly mediaType: string;
  readonly compression: Compression;
  /** The file name `writeAttachment` uses when given a directory. */
  readonly filename?: string;
}

/** Options of attachment logging. */
export interface LogAttachmentOptions {
  /** `'zstd'` stores the content compressed with OMMX's `+zstd` rule. @default 'none' */
  readonly compression?: Compression;
}

/** Options of {@link AttachmentWriter.logFile}. */
export interface LogFileOptions extends LogAttachmentOptions {
  /** The media type; sniffed from magic bytes, then the extension, when absent. */
  readonly mediaType?: string;
  /** The file name kept for export; the source path's basename when absent. */
  readonly filename?: string;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: Progress) => void;
}

/** Options of {@link AttachmentReader.writeAttachment}. */
export interface WriteAttachmentOptions {
  /** Replace an existing file. @default false */
  readonly overwrite?: boolean;
  readonly signal?: AbortSignal;
}

/** Names starting with this are runledger's own extension attachments. */
export const RESERVED_PREFIX = 'runledger.';
/** Largest content decompressed in memory (zip-bomb guard). */
const MAX_DECOMPRESSED = 1024 * 1024 * 1024;
const SNIFF_BYTES = 8192;

/** Where a scope's blobs go and are read from. @internal */
export interface AttachmentSink {
  readonly registry: LocalRegistry;
  /** The batch the scope writes into (committed at run close or experiment commit). */
  batch(): BlobBatch;
  /** Makes pending writes readable (commits the batch) before a read. */
  flush(): Promise<void>;
  /**
   * Called once an attachment is recorded, with the batch its blob is in (the crash journal makes
   * it durable here). The log call resolves after it.
   */
  stored?(record: AttachmentRecord, batch: BlobBatch): Promise<void> | undefined;
  /** Called once an attachment is recorded (after `stored`), for observers. */
  recorded?(record: AttachmentRecord): void;
}

/**
 * Logs attachments of one scope. Names are unique in the scope and checked before any byte is
 * written; a failed log leaves no attachment and frees the name.
 */
export class AttachmentWriter {
  readonly #scope: string;
  readonly #sink: AttachmentSink;
  readonly #guard: () => void;
  readonly #records = new Map<string, AttachmentRecord>();
  readonly #pending = new Set<string>();

  /**
   * @param scope - names the scope in messages (`run 3`, `experiment ghcr.io/…`)
   * @param sink - where blobs go
   * @param guard - throws when the scope is closed
   * @param inherited - records already in the scope (fork, restore)
   */
  constructor(
    scope: string,
    sink: AttachmentSink,
    guard: () => void,
    inherited: readonly AttachmentRecord[] = []
  ) {
    this.#scope = scope;
    this.#sink = sink;
    this.#guard = guard;
    for (const r of inherited) this.#records.set(r.name, r);
  }

  /** Every attachment logged so far, by name. */
  get records(): ReadonlyMap<string, AttachmentRecord> {
    return this.#records;
  }

  /**
   * Adds records whose blobs are already in the store (crash recovery); names already taken are
   * left as they are.
   * @internal
   */
  adopt(records: readonly AttachmentRecord[]): void {
    for (const r of records) if (!this.#records.has(r.name)) this.#records.set(r.name, r);
  }

  #reserve(name: unknown, internal: boolean): string {
    this.#guard();
    if (typeof name !== 'string' || name.length === 0) {
      throw new RunledgerError(
        'ARGUMENT_INVALID',
        `An attachment name of ${this.#scope} must be a non-empty string.`,
        { data: { scope: this.#scope } }
      );
    }
    if (!internal && name.startsWith(RESERVED_PREFIX)) {
      throw new RunledgerError(
        'NAME_RESERVED',
        `Attachment name ${JSON.stringify(name)} is reserved: names starting with "${RESERVED_PREFIX}" belong to runledger.`,
        { data: { name, scope: this.#scope } }
      );
    }
    if (this.#records.has(name) || this.#pending.has(name)) {
      throw new RunledgerError(
        'ATTACHMENT_EXISTS',
        `Attachment ${JSON.stringify(name)} already exists in ${this.#scope}.`,
        { data: { name, scope: this.#scope } }
      );
    }
    this.#pending.add(name);
    return name;
  }

  async #store(
    name: string,
    mediaType: string,
    write: (batch: BlobBatch) => BlobInfo | Promise<{ digest: Descriptor['digest']; size: number }>,
    compression: Compression,
    filename?: string,
    annotations: Readonly<Record<string, string>> = {}
  ): Promise<void> {
    try {
      checkMediaType(mediaType, compression, name, this.#scope);
      const batch = this.#sink.batch();
      // Bytes in memory are written before `write` returns: awaited only when it is a promise.
      const written = write(batch);
      const { digest, size } = written instanceof Promise ? await written : written;
      const descriptor: Descriptor = {
        mediaType: storedMediaType(mediaType, compression),
        digest,
        size,
        annotations:
          compression === 'zstd'
            ? { ...annotations, [ZSTD_ANNOTATION]: 'zstd' }
            : { ...annotations },
      };
      const plain: AttachmentRecord = { name, descriptor, mediaType, compression };
      const record = filename === undefined ? plain : { ...plain, filename };
      const stored = this.#sink.stored?.(record, batch);
      if (stored !== undefined) await stored;
      this.#records.set(name, record);
      this.#sink.recorded?.(record);
    } finally {
      this.#pending.delete(name);
    }
  }

  /**
   * Logs bytes under a media type.
   * @param name - unique in the scope
   * @param mediaType - a media type (`type/subtype`, optional `; name=value` parameters), as the
   *   manifest reader accepts it
   * @param bytes - the content
   * @param options - compression
   * @throws RunledgerError `ATTACHMENT_EXISTS`, `NAME_RESERVED`, `RUN_CLOSED`/`EXPERIMENT_SEALED`,
   *   `ARGUMENT_INVALID` (a media type the manifest reader would refuse, content not bytes)
   */
  logAttachment(
    name: string,
    mediaType: string,
    bytes: Uint8Array,
    options: LogAttachmentOptions & { internal?: boolean } = {}
  ): Promise<void> {
    // Not an async function (one promise less a log): a check that fails still rejects.
    let compression: Compression;
    let n: string;
    try {
      compression = parseCompression(options.compression ?? 'none');
      if (!(bytes instanceof Uint8Array)) {
        throw new RunledgerError(
          'ARGUMENT_INVALID',
          `The content of attachment ${JSON.stringify(name)} must be a Uint8Array.`
        );
      }
      n = this.#reserve(name, options.internal === true);
    } catch (e) {
      return Promise.reject(e as Error);
    }
    return this.#store(
      n,
      mediaType,
      compression === 'zstd'
        ? async (batch) => batch.putBlobNow(await compressZstd(bytes))
        : (batch) => {
            // A full background writer is waited for (a slow disk), not competed with.
            const room = batch.roomFor(bytes.byteLength);
            return room === undefined
              ? batch.putBlobNow(bytes)
              : room.then(() => batch.putBlobNow(bytes));
          },
      compression
    );
  }

  /**
   * Logs an OMMX message (Instance, ParametricInstance, Solution, SampleSet) as v2 protobuf, with
   * the descriptor annotations OMMX mirrors from it (never compressed, as OMMX).
   * @param name - unique in the scope
   * @param payload - the encoded message: media type, bytes, descriptor annotations
   * @throws RunledgerError as {@link AttachmentWriter.logAttachment}
   */
  async logPayload(name: string, payload: EncodedPayload): Promise<void> {
    const n = this.#reserve(name, false);
    await this.#store(
      n,
      payload.mediaType,
      (batch) => batch.putBlob(payload.bytes),
      'none',
      undefined,
      payload.annotations
    );
  }

  /**
   * Logs a JSON value as canonical JSON (`application/json`, sorted keys, compact).
   * @param name - unique in the scope
   * @param value - plain JSON data
   * @param options - compression
   * @throws RunledgerError `ARGUMENT_INVALID` for values JSON cannot hold (NaN, bigint, cycles), and as {@link AttachmentWriter.logAttachment}
   */
  logJson(name: string, value: unknown, options: LogAttachmentOptions = {}): Promise<void> {
    let bytes: Uint8Array;
    try {
      this.#guard();
      try {
        bytes = canonicalJsonBytes(value as JsonValue);
      } catch (cause) {
        throw new RunledgerError(
          'ARGUMENT_INVALID',
          `The value of JSON attachment ${JSON.stringify(name)} must be JSON-serializable: ${(cause as Error).message}`,
          { data: { name }, cause }
        );
      }
    } catch (e) {
      return Promise.reject(e as Error);
    }
    return this.logAttachment(name, 'application/json', bytes, options);
  }

  /**
   * Logs text as UTF-8 (`text/plain; charset=utf-8`).
   * @param name - unique in the scope
   * @param text - the text
   * @param options - compression
   * @throws RunledgerError as {@link AttachmentWriter.logAttachment}
   */
  async logText(name: string, text: string, options: LogAttachmentOptions = {}): Promise<void> {
    if (typeof text !== 'string') {
      throw new RunledgerError(
        'ARGUMENT_INVALID',
        `The content of text attachment ${JSON.stringify(name)} must be a string.`
      );
    }
    await this.logAttachment(
      name,
      'text/plain; charset=utf-8',
      new TextEncoder().encode(text),
      options
    );
  }

  /**
   * Logs a file, streamed (never held whole in memory unless compressed). The media type is
   * sniffed from magic bytes, then the extension, else `application/octet-stream`; only the
   * basename is kept.
   * @param name - unique in the scope
   * @param path - a regular file
   * @param options - mediaType, filename, compression, signal, onProgress
   * @throws RunledgerError `ARGUMENT_INVALID` (not a regular file, bad filename), `IO_ERROR`, and as {@link AttachmentWriter.logAttachment}
   */
  async logFile(name: string, path: string, options: LogFileOptions = {}): Promise<void> {
    const compression = parseCompression(options.compression ?? 'none');
    const filename = validateFilename(options.filename ?? basename(path));
    let info;
    try {
      info = await stat(path);
    } catch (e) {
      throw ioError(e, 'read the file', path);
    }
    if (!info.isFile()) {
      throw new RunledgerError(
        'ARGUMENT_INVALID',
        `${path} is not a regular file, so it cannot be logged as attachment ${JSON.stringify(name)}.`,
        { data: { path } }
      );
    }
    const n = this.#reserve(name, false);
    let mediaType = options.mediaType;
    if (mediaType === undefined) {
      try {
        mediaType = detectMediaType(await readHead(path, SNIFF_BYTES), filename);
      } catch (e) {
        this.#pending.delete(n);
        throw ioError(e, 'read the file', path);
      }
    }
    await this.#store(
      n,
      mediaType,
      async (batch) => {
        if (compression === 'none') {
          const put: {
            signal?: AbortSignal;
            onProgress?: (p: Progress) => void;
            expectedSize: number;
          } = { expectedSize: info.size };
          if (options.signal !== undefined) put.signal = options.signal;
          if (options.onProgress !== undefined) put.onProgress = options.onProgress;
          return batch.putBlobFile(path, put);
        }
        // zstd here is whole-buffer (the wasm codec has no streaming API): bounded by memory.
        return batch.putBlob(await compressZstd(await readFile(path)));
      },
      compression,
      filename
    );
  }

  /**
   * Logs a value through a codec, under the codec's media type.
   * @param codec - an {@link AttachmentCodec}
   * @param name - unique in the scope
   * @param value - the value
   * @param options - compression
   * @throws RunledgerError `CODEC_INVALID`; errors thrown by the codec itself pass through unchanged
   */
  async logWithCodec<T>(
    codec: AttachmentCodec<T>,
    name: string,
    value: T,
    options: LogAttachmentOptions = {}
  ): Promise<void> {
    assertCodec(codec);
    this.#guard();
    const bytes = encodeWith(codec, value);
    await this.logAttachment(name, codec.mediaType, bytes, options);
  }
}

/**
 * Checks a media type being logged with the grammar the manifest reader enforces, in the form it
 * is stored in too (OMMX appends `+zstd` when compressed): what is logged can never make a
 * checkpoint or commit fail.
 */
function checkMediaType(
  mediaType: unknown,
  compression: Compression,
  name: string,
  scope: string
): void {
  const attachment = `attachment ${JSON.stringify(name)} of ${scope}`;
  if (!isMediaType(mediaType)) {
    const shown =
      typeof mediaType === 'string' ? JSON.stringify(mediaType) : `of type ${typeof mediaType}`;
    throw new RunledgerError(
      'ARGUMENT_INVALID',
      `The media type ${shown} of ${attachment} is not a media type (type/subtype, then optional "; name=value" parameters, no control characters).`,
      {
        data: {
          name,
          scope,
          mediaType: typeof mediaType === 'string' ? mediaType : typeof mediaType,
        },
      }
    );
  }
  const stored = storedMediaType(mediaType, compression);
  if (!isMediaType(stored)) {
    throw new RunledgerError(
      'ARGUMENT_INVALID',
      `The media type ${JSON.stringify(mediaType)} of ${attachment} cannot be stored zstd-compressed: OMMX appends +zstd, and ${JSON.stringify(stored)} is not a media type.`,
      { data: { name, scope, mediaType, compression } }
    );
  }
}

/**
 * A file's first `n` bytes (fewer when it is shorter).
 * @internal
 */
export async function readHead(path: string, n: number): Promise<Uint8Array> {
  const h = await open(path, 'r');
  try {
    const buf = Buffer.alloc(n);
    const { bytesRead } = await h.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await h.close();
  }
}

/**
 * Reads the attachments of one scope. Metadata (names, media types) never touches a blob;
 * content is read through the registry, digest-verified, and decompressed when stored `+zstd`.
 */
export class AttachmentReader {
  readonly #scope: string;
  readonly #records: () => ReadonlyMap<string, AttachmentRecord>;
  readonly #registry: LocalRegistry;
  readonly #beforeRead: () => Promise<void>;

  /**
   * @param scope - names the scope in messages
   * @param records - the scope's attachments (a function, so unsealed scopes stay live)
   * @param registry - where blobs are read from
   * @param beforeRead - makes pending writes readable
   */
  constructor(
    scope: string,
    records: () => ReadonlyMap<string, AttachmentRecord>,
    registry: LocalRegistry,
    beforeRead: () => Promise<void> = async () => undefined
  ) {
    this.#scope = scope;
    this.#records = records;
    this.#registry = registry;
    this.#beforeRead = beforeRead;
  }

  /**
   * Attachment names, sorted; runledger's own extension attachments (`runledger.runs`,
   * `runledger.metrics`, an earlier artifact's `runledger.run`) are left out — they are read
   * through their own APIs, and by name.
   */
  get names(): string[] {
    return [...this.#records().keys()].filter((n) => !n.startsWith(RESERVED_PREFIX)).sort();
  }

  /**
   * The record of an attachment.
   * @param name - the attachment
   * @returns its record
   * @throws RunledgerError `ATTACHMENT_NOT_FOUND`
   */
  record(name: string): AttachmentRecord {
    const r = this.#records().get(name);
    if (r === undefined) {
      throw new RunledgerError(
        'ATTACHMENT_NOT_FOUND',
        `There is no attachment ${JSON.stringify(name)} in ${this.#scope}.`,
        {
          data: { name, scope: this.#scope },
        }
      );
    }
    return r;
  }

  /**
   * The logical media type of an attachment (without `+zstd`), read without touching the blob.
   * @param name - the attachment
   * @returns the media type
   * @throws RunledgerError `ATTACHMENT_NOT_FOUND`
   */
  mediaType(name: string): string {
    return this.record(name).mediaType;
  }

  /**
   * The content bytes (decompressed), digest-verified.
   * @param name - the attachment
   * @returns the bytes
   * @throws RunledgerError `ATTACHMENT_NOT_FOUND`, `BLOB_NOT_FOUND`, `DIGEST_MISMATCH`, `PAYLOAD_INVALID`
   */
  async getBlob(name: string): Promise<Uint8Array> {
    const r = this.record(name);
    await this.#beforeRead();
    const bytes = await this.#registry.readBlob(r.descriptor.digest, {
      expectedSize: r.descriptor.size,
    });
    return r.compression === 'zstd' ? decompressZstd(bytes, { maxSize: MAX_DECOMPRESSED }) : bytes;
  }

  #expect(name: string, ok: (mediaType: string) => boolean, expected: string): AttachmentRecord {
    const r = this.record(name);
    if (!ok(r.mediaType)) {
      throw new RunledgerError(
        'MEDIA_TYPE_MISMATCH',
        `Attachment ${JSON.stringify(name)} of ${this.#scope} is ${r.mediaType}, expected ${expected}.`,
        { data: { name, scope: this.#scope, expected, actual: r.mediaType } }
      );
    }
    return r;
  }

  /**
   * A JSON attachment, parsed.
   * @param name - an `application/json` attachment
   * @returns the value
   * @throws RunledgerError `MEDIA_TYPE_MISMATCH` for other media types, `PAYLOAD_INVALID` for malformed JSON
   */
  async getJson(name: string): Promise<unknown> {
    this.#expect(name, (t) => t === 'application/json', 'application/json');
    return parseJson(await this.getBlob(name), name);
  }

  /**
   * A text attachment, decoded as UTF-8.
   * @param name - a `text/*` attachment
   * @returns the text
   * @throws RunledgerError `MEDIA_TYPE_MISMATCH`, `PAYLOAD_INVALID` for invalid UTF-8
   */
  async getText(name: string): Promise<string> {
    this.#expect(name, (t) => t.startsWith('text/'), 'text/*');
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(await this.getBlob(name));
    } catch (cause) {
      if (cause instanceof RunledgerError) throw cause;
      throw new RunledgerError(
        'PAYLOAD_INVALID',
        `Attachment ${JSON.stringify(name)} is not valid UTF-8.`,
        { cause }
      );
    }
  }

  /**
   * An attachment decoded by its media type: JSON parsed, OMMX messages (v1 or v2) decoded into
   * Instance / ParametricInstance / Solution / SampleSet, anything else as bytes.
   * @param name - the attachment
   * @returns the value or bytes
   * @throws RunledgerError as {@link AttachmentReader.getBlob}, `PAYLOAD_INVALID`
   */
  async getAttachment(name: string): Promise<unknown> {
    const r = this.record(name);
    const type = ommxPayloadType(r.mediaType);
    if (type !== undefined) return this.getPayload(name, type.kind);
    const bytes = await this.getBlob(name);
    return r.mediaType === 'application/json' ? parseJson(bytes, name) : bytes;
  }

  /**
   * An OMMX message attachment, decoded (v1 or v2 by its media type), with its descriptor
   * annotations merged where the message lacks them. The media type is checked before any read.
   * @param name - the attachment
   * @param kind - the message kind expected
   * @returns the decoded message
   * @throws RunledgerError `MEDIA_TYPE_MISMATCH`, `PAYLOAD_INVALID`, and as {@link AttachmentReader.getBlob}
   */
  async getPayload<K extends OmmxMessageKind>(name: string, kind: K): Promise<OmmxPayload<K>> {
    const r = this.#expect(
      name,
      (t) => ommxPayloadType(t)?.kind === kind,
      `an OMMX ${kind} (application/org.ommx.v2.${kind})`
    );
    return decodePayload(kind, await this.getBlob(name), r.mediaType, r.descriptor.annotations);
  }

  /**
   * An attachment decoded by a codec, after checking its media type equals the codec's (before
   * any blob is read).
   * @param codec - the codec
   * @param name - the attachment
   * @returns the decoded value
   * @throws RunledgerError `CODEC_INVALID`, `MEDIA_TYPE_MISMATCH`; the codec's own errors pass through
   */
  async getWithCodec<T>(codec: AttachmentCodec<T>, name: string): Promise<T> {
    assertCodec(codec);
    this.#expect(name, (t) => t === codec.mediaType, codec.mediaType);
    return codec.decode(await this.getBlob(name));
  }

  /**
   * Writes an attachment's content to a file. Given an existing directory, the file is named by
   * the attachment's stored file name, else its name made safe. The file appears whole (temp +
   * rename) and only after the digest was verified.
   * @param name - the attachment
   * @param path - a file path or an existing directory
   * @param options - overwrite, signal
   * @returns the path written
   * @throws RunledgerError `FILE_EXISTS` without overwrite, `ATTACHMENT_NOT_FOUND`, `DIGEST_MISMATCH`, `IO_ERROR`
   */
  async writeAttachment(
    name: string,
    path: string,
    options: WriteAttachmentOptions = {}
  ): Promise<string> {
    const r = this.record(name);
    let target = path;
    const s = await stat(path).catch(() => undefined);
    if (s?.isDirectory() === true) target = join(path, r.filename ?? safeFileName(name));
    const existing = s?.isDirectory() === true ? await stat(target).catch(() => undefined) : s;
    if (existing !== undefined && options.overwrite !== true) {
      throw new RunledgerError(
        'FILE_EXISTS',
        `${target} already exists; pass overwrite to replace it.`,
        { data: { path: target } }
      );
    }
    await this.#beforeRead();
    const temp = `${target}.runledger-${randomBytes(6).toString('hex')}.tmp`;
    try {
      if (r.compression === 'zstd') {
        await writeFile(temp, await this.getBlob(name), { flag: 'wx' });
      } else {
        const h = await open(temp, 'wx');
        try {
          const read: { expectedSize: number; signal?: AbortSignal } = {
            expectedSize: r.descriptor.size,
          };
          if (options.signal !== undefined) read.signal = options.signal;
          for await (const chunk of this.#registry.streamBlob(r.descriptor.digest, read)) {
            await h.write(chunk);
          }
        } finally {
          await h.close();
        }
      }
      await rename(temp, target);
    } catch (e) {
      await unlink(temp).catch(() => undefined);
      throw ioError(e, 'write the attachment to', target);
    }
    return target;
  }
}

function parseJson(bytes: Uint8Array, name: string): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (cause) {
    throw new RunledgerError(
      'PAYLOAD_INVALID',
      `Attachment ${JSON.stringify(name)} is not valid JSON.`,
      { data: { name }, cause }
    );
  }
}

function safeFileName(name: string): string {
  // eslint-disable-next-line no-control-regex
  const safe = name.replace(/[/\\\u0000-\u001f]/g, '_').replace(/^\.+$/, '_');
  return safe.length === 0 ? 'attachment' : safe.slice(0, 200);
}

/**
 * Rebuilds attachment records from an artifact's config table and layers.
 * @internal
 */
export function recordsFromTable(
  entries: ReadonlyMap<string, number>,
  filenames: ReadonlyMap<string, string>,
  layers: readonly Descriptor[]
): AttachmentRecord[] {
  return [...entries].map(([name, index]) => {
    const descriptor = layers[index] as Descriptor;
    const { mediaType, compression } = logicalMediaType(
      descriptor.mediaType,
      descriptor.annotations ?? {}
    );
    const filename = filenames.get(name);
    const r: AttachmentRecord = { name, descriptor, mediaType, compression };
    return filename === undefined ? r : { ...r, filename };
  });
}

/**
 * The records a manifest can hold. A record whose descriptor the manifest reader would refuse
 * (an attachment an older runledger accepted with an invalid media type, read back from a crash
 * journal) is left out with a process warning, so it cannot keep everything else from being
 * checkpointed and committed; its blob stays in the store until `gc`.
 * @internal
 */
export function storableRecords(
  records: readonly AttachmentRecord[],
  scope: string,
  source: string
): AttachmentRecord[] {
  return records.filter((r) => {
    try {
      parseDescriptor(r.descriptor, `of attachment ${JSON.stringify(r.name)}`);
      return true;
    } catch (e) {
      const mediaType: unknown = (r.descriptor as Partial<Descriptor> | undefined)?.mediaType;
      const why = isMediaType(mediaType)
        ? (e as Error).message.replace(/\.$/, '')
        : `its media type ${JSON.stringify(mediaType)} is not one the manifest reader accepts`;
      process.emitWarning(
        `runledger: attachment ${JSON.stringify(r.name)} of ${scope} in ${source} is left out: ${why} (its blob stays in the store until gc).`,
        { code: 'RUNLEDGER_QUARANTINE' }
      );
      return false;
    }
  });
}
