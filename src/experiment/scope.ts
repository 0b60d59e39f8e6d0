/**
 * @module experiment/scope
 * The attachment readers every readable scope offers (experiment, sealed experiment, sealed
 * run), in one place.
 */
import type { AttachmentCodec } from './codec.js';
import type { AttachmentReader, WriteAttachmentOptions } from './attachments.js';
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
