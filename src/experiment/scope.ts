/**
 * @module experiment/scope
 * The attachment methods of a scope, each written once: the readers every readable scope offers
 * (experiment, sealed experiment, sealed run) and the log methods every open scope offers
 * (experiment, run).
 */
import type { Digest } from '../oci/digest.js';
import type { AttachmentCodec } from './codec.js';
import type {
  AttachmentReader,
  AttachmentWriter,
  LogAttachmentOptions,
  LogFileOptions,
  WriteAttachmentOptions,
} from './attachments.js';
import { encodePayload } from './payloads.js';
import type { Instance } from '../ommx/instance.js';
import type { ParametricInstance } from '../ommx/parametric-instance.js';
import type { SampleSet } from '../ommx/sample-set.js';
import type { Solution } from '../ommx/solution.js';

/** A scope whose attachments can be read. */
export abstract class ReadableScope {
  /** @internal */
  protected abstract get reader(): AttachmentReader;

  /** Attachment names of this scope, sorted. */
  get attachmentNames(): string[] {
    return this.reader.names;
  }

  /**
   * The logical media type of an attachment, without reading it.
   * @param name - the attachment
   * @returns its media type
   * @throws RunledgerError `ATTACHMENT_NOT_FOUND`
   */
  attachmentMediaType(name: string): string {
    return this.reader.mediaType(name);
  }

  /**
   * The size of an attachment as stored (its layer's size: compressed when stored compressed),
   * without reading it.
   * @param name - the attachment
   * @returns its stored size in bytes
   * @throws RunledgerError `ATTACHMENT_NOT_FOUND`
   */
  attachmentSize(name: string): number {
    return this.reader.record(name).descriptor.size;
  }

  /**
   * The digest of an attachment's layer as stored (of the compressed bytes when stored
   * compressed), without reading it.
   * @param name - the attachment
   * @returns its layer digest
   * @throws RunledgerError `ATTACHMENT_NOT_FOUND`
   */
  attachmentDigest(name: string): Digest {
    return this.reader.record(name).descriptor.digest;
  }

  /**
   * An attachment decoded by media type: JSON parsed, anything else as bytes.
   * @param name - the attachment
   * @returns the value
   * @throws RunledgerError `ATTACHMENT_NOT_FOUND`, `DIGEST_MISMATCH`, `PAYLOAD_INVALID`
   */
  getAttachment(name: string): Promise<unknown> {
    return this.reader.getAttachment(name);
  }

  /**
   * A JSON attachment, parsed.
   * @param name - an `application/json` attachment
   * @returns the value
   * @throws RunledgerError `MEDIA_TYPE_MISMATCH`, `ATTACHMENT_NOT_FOUND`, `PAYLOAD_INVALID`
   */
  getJson(name: string): Promise<unknown> {
    return this.reader.getJson(name);
  }

  /**
   * A text attachment, decoded.
   * @param name - a `text/*` attachment
   * @returns the text
   * @throws RunledgerError `MEDIA_TYPE_MISMATCH`, `ATTACHMENT_NOT_FOUND`
   */
  getText(name: string): Promise<string> {
    return this.reader.getText(name);
  }

  /**
   * An attachment's bytes (decompressed), digest-verified.
   * @param name - the attachment
   * @returns the bytes
   * @throws RunledgerError `ATTACHMENT_NOT_FOUND`, `BLOB_NOT_FOUND`, `DIGEST_MISMATCH`
   */
  getBlob(name: string): Promise<Uint8Array> {
    return this.reader.getBlob(name);
  }

  /**
   * An OMMX Instance attachment (v1 or v2), decoded; descriptor annotations fill what the message
   * lacks.
   * @param name - the attachment
   * @returns the Instance
   * @throws RunledgerError `MEDIA_TYPE_MISMATCH` (checked before reading), `PAYLOAD_INVALID`,
   *   `ATTACHMENT_NOT_FOUND`
   */
  getInstance(name: string): Promise<Instance> {
    return this.reader.getPayload(name, 'instance');
  }

  /**
   * An OMMX ParametricInstance attachment (v1 or v2), decoded.
   * @param name - the attachment
   * @returns the ParametricInstance
   * @throws RunledgerError `MEDIA_TYPE_MISMATCH`, `PAYLOAD_INVALID`, `ATTACHMENT_NOT_FOUND`
   */
  getParametricInstance(name: string): Promise<ParametricInstance> {
    return this.reader.getPayload(name, 'parametric-instance');
  }

  /**
   * An OMMX Solution attachment (v1 or v2), decoded.
   * @param name - the attachment
   * @returns the Solution
   * @throws RunledgerError `MEDIA_TYPE_MISMATCH`, `PAYLOAD_INVALID`, `ATTACHMENT_NOT_FOUND`
   */
  getSolution(name: string): Promise<Solution> {
    return this.reader.getPayload(name, 'solution');
  }

  /**
   * An OMMX SampleSet attachment (v1 or v2), decoded.
   * @param name - the attachment
   * @returns the SampleSet
   * @throws RunledgerError `MEDIA_TYPE_MISMATCH`, `PAYLOAD_INVALID`, `ATTACHMENT_NOT_FOUND`
   */
  getSampleSet(name: string): Promise<SampleSet> {
    return this.reader.getPayload(name, 'sample-set');
  }

  /**
   * An attachment decoded by a codec whose media type must match (checked before reading).
   * @param codec - the codec
   * @param name - the attachment
   * @returns the decoded value
   * @throws RunledgerError `MEDIA_TYPE_MISMATCH`, `CODEC_INVALID`
   */
  getWithCodec<T>(codec: AttachmentCodec<T>, name: string): Promise<T> {
    return this.reader.getWithCodec(codec, name);
  }

  /**
   * Writes an attachment to a file (or into a directory under its stored file name).
   * @param name - the attachment
   * @param path - a file path or an existing directory
   * @param options - overwrite, signal
   * @returns the path written
   * @throws RunledgerError `FILE_EXISTS`, `ATTACHMENT_NOT_FOUND`, `IO_ERROR`
   */
  writeAttachment(
    name: string,
    path: string,
    options: WriteAttachmentOptions = {}
  ): Promise<string> {
    return this.reader.writeAttachment(name, path, options);
  }
}

/**
 * A class whose instances are `T`: what the scope mixin extends. (A mixin's base must take
 * `...args: any[]`; TypeScript allows no narrower type there.)
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ScopeClass<T = object> = abstract new (...args: any[]) => T;

/**
 * How an open scope writes one attachment: it hands `write` its writer and keeps track of the
 * write until it lands (a commit or a run's close waits for writes in flight).
 * @internal
 */
export type AttachmentLogHost = <T>(write: (writer: AttachmentWriter) => Promise<T>) => Promise<T>;

/** Where a scope keeps its {@link AttachmentLogHost}: a property no other module can name. */
const HOST: unique symbol = Symbol('runledger.attachmentLogHost');

interface Hosted {
  [HOST]?: AttachmentLogHost;
}

/**
 * Connects an open scope's log methods to its writer; called once, in the scope's constructor.
 * @param scope - the experiment or run
 * @param host - how it writes
 * @internal
 */
export function bindAttachmentLog(scope: AttachmentLog, host: AttachmentLogHost): void {
  (scope as Hosted)[HOST] = host;
}

function hostOf(scope: object): AttachmentLogHost {
  const host = (scope as Hosted)[HOST];
  if (host === undefined) throw new Error('runledger: a scope logged before bindAttachmentLog');
  return host;
}

/**
 * The log methods an open scope (an {@link Experiment} or a {@link Run}) offers. Each throws
 * `RUN_CLOSED` on a closed run and `EXPERIMENT_SEALED` on a committed experiment; names are
 * unique within the scope (`ATTACHMENT_EXISTS`). Bytes are durable when the run closes (for a
 * run) or the experiment is committed or checkpointed.
 */
export interface AttachmentLog {
  /**
   * Logs bytes under a media type.
   * @param name - unique in this scope
   * @param mediaType - the media type (`type/subtype`, optional `; name=value` parameters)
   * @param bytes - the content
   * @param options - compression
   * @returns when the bytes are written
   * @throws RunledgerError `ARGUMENT_INVALID` (a media type the manifest reader would refuse),
   *   `ATTACHMENT_EXISTS`, `NAME_RESERVED`, `RUN_CLOSED`, `EXPERIMENT_SEALED`
   */
  logAttachment(
    name: string,
    mediaType: string,
    bytes: Uint8Array,
    options?: LogAttachmentOptions
  ): Promise<void>;

  /**
   * Logs a JSON value (canonical JSON, `application/json`).
   * @param name - unique in this scope
   * @param value - plain JSON data
   * @param options - compression
   * @returns when written
   * @throws RunledgerError `ARGUMENT_INVALID` for non-JSON values, `ATTACHMENT_EXISTS`,
   *   `RUN_CLOSED`, `EXPERIMENT_SEALED`
   */
  logJson(name: string, value: unknown, options?: LogAttachmentOptions): Promise<void>;

  /**
   * Logs UTF-8 text (`text/plain; charset=utf-8`).
   * @param name - unique in this scope
   * @param text - the text
   * @param options - compression
   * @returns when written
   * @throws RunledgerError `ATTACHMENT_EXISTS`, `RUN_CLOSED`, `EXPERIMENT_SEALED`
   */
  logText(name: string, text: string, options?: LogAttachmentOptions): Promise<void>;

  /**
   * Logs a file, streamed; media type from magic bytes, then extension; basename kept.
   * @param name - unique in this scope
   * @param path - a regular file
   * @param options - mediaType, filename, compression, signal, onProgress
   * @returns when written
   * @throws RunledgerError `ARGUMENT_INVALID`, `IO_ERROR`, `ATTACHMENT_EXISTS`, `RUN_CLOSED`,
   *   `EXPERIMENT_SEALED`
   */
  logFile(name: string, path: string, options?: LogFileOptions): Promise<void>;

  /**
   * Logs a value through a codec.
   * @param codec - the codec
   * @param name - unique in this scope
   * @param value - the value
   * @param options - compression
   * @returns when written
   * @throws RunledgerError `CODEC_INVALID`, `ATTACHMENT_EXISTS`, `RUN_CLOSED`,
   *   `EXPERIMENT_SEALED`; codec errors pass through
   */
  logWithCodec<T>(
    codec: AttachmentCodec<T>,
    name: string,
    value: T,
    options?: LogAttachmentOptions
  ): Promise<void>;

  /**
   * Logs an OMMX Instance (v2 protobuf, with OMMX's mirrored descriptor annotations).
   * @param name - unique in this scope
   * @param instance - the Instance
   * @returns when written
   * @throws RunledgerError `ARGUMENT_INVALID`, `ATTACHMENT_EXISTS`, `RUN_CLOSED`, `EXPERIMENT_SEALED`
   */
  logInstance(name: string, instance: Instance): Promise<void>;

  /**
   * Logs an OMMX ParametricInstance.
   * @param name - unique in this scope
   * @param value - the ParametricInstance
   * @returns when written
   * @throws RunledgerError `ARGUMENT_INVALID`, `ATTACHMENT_EXISTS`, `RUN_CLOSED`, `EXPERIMENT_SEALED`
   */
  logParametricInstance(name: string, value: ParametricInstance): Promise<void>;

  /**
   * Logs an OMMX Solution.
   * @param name - unique in this scope
   * @param solution - the Solution
   * @returns when written
   * @throws RunledgerError `ARGUMENT_INVALID`, `ATTACHMENT_EXISTS`, `RUN_CLOSED`, `EXPERIMENT_SEALED`
   */
  logSolution(name: string, solution: Solution): Promise<void>;

  /**
   * Logs an OMMX SampleSet.
   * @param name - unique in this scope
   * @param sampleSet - the SampleSet
   * @returns when written
   * @throws RunledgerError `ARGUMENT_INVALID`, `ATTACHMENT_EXISTS`, `RUN_CLOSED`, `EXPERIMENT_SEALED`
   */
  logSampleSet(name: string, sampleSet: SampleSet): Promise<void>;
}

/**
 * Adds the {@link AttachmentLog} methods to a scope class; the scope connects them to its writer
 * with {@link bindAttachmentLog}.
 * @param Base - the class to extend
 * @returns the class with the log methods
 * @internal
 */
export function withAttachmentLog<B extends ScopeClass>(Base: B): B & ScopeClass<AttachmentLog> {
  abstract class AttachmentLogScope extends Base implements AttachmentLog {
    logAttachment(
      name: string,
      mediaType: string,
      bytes: Uint8Array,
      options?: LogAttachmentOptions
    ): Promise<void> {
      return hostOf(this)((w) => w.logAttachment(name, mediaType, bytes, options));
    }

    logJson(name: string, value: unknown, options?: LogAttachmentOptions): Promise<void> {
      return hostOf(this)((w) => w.logJson(name, value, options));
    }

    logText(name: string, text: string, options?: LogAttachmentOptions): Promise<void> {
      return hostOf(this)((w) => w.logText(name, text, options));
    }

    logFile(name: string, path: string, options?: LogFileOptions): Promise<void> {
      return hostOf(this)((w) => w.logFile(name, path, options));
    }

    logWithCodec<T>(
      codec: AttachmentCodec<T>,
      name: string,
      value: T,
      options?: LogAttachmentOptions
    ): Promise<void> {
      return hostOf(this)((w) => w.logWithCodec(codec, name, value, options));
    }

    async logInstance(name: string, instance: Instance): Promise<void> {
      return hostOf(this)((w) => w.logPayload(name, encodePayload('instance', instance)));
    }

    async logParametricInstance(name: string, value: ParametricInstance): Promise<void> {
      return hostOf(this)((w) => w.logPayload(name, encodePayload('parametric-instance', value)));
    }

    async logSolution(name: string, solution: Solution): Promise<void> {
      return hostOf(this)((w) => w.logPayload(name, encodePayload('solution', solution)));
    }

    async logSampleSet(name: string, sampleSet: SampleSet): Promise<void> {
      return hostOf(this)((w) => w.logPayload(name, encodePayload('sample-set', sampleSet)));
    }
  }
  return AttachmentLogScope;
}

/** The base of a run: it logs attachments (and reads none back until it is sealed). */
export const RunScope: ScopeClass<AttachmentLog> = withAttachmentLog(class {});

/** The base of an experiment: it logs attachments and reads them back. */
export const ExperimentScope: typeof ReadableScope & ScopeClass<AttachmentLog> =
  withAttachmentLog(ReadableScope);
