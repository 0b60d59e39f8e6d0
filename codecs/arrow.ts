/**
 * @module codecs/arrow
 * The Apache Arrow attachment codec: a `Table` as an Arrow IPC file.
 */
import type { Table } from 'apache-arrow';
import type { AttachmentCodec } from '../src/experiment/codec.js';
import { tableFromArrowFile, tableToArrowFile } from '../src/tables/arrow.js';

const MEDIA_TYPE = 'application/vnd.apache.arrow.file';

/**
 * Stores an apache-arrow `Table` as `application/vnd.apache.arrow.file`: the Arrow IPC file
 * format (`tableToIPC(table, 'file')`), uncompressed, which pyarrow, polars and DuckDB read. The
 * same table (same schema, same record batches) always gives the same bytes; a table split into
 * other record batches is written as those batches. Decoding copies the bytes first, so the table
 * shares no memory with the caller.
 *
 * Arrow IPC has no checksum and apache-arrow trusts the lengths it reads, so damaged bytes are
 * not always refused and crafted ones can make decoding slow; attachments are read through their
 * digest, which keeps accidental damage out.
 *
 * @throws RunledgerError `ARGUMENT_INVALID` from `encode` for something that is not an Arrow table,
 * or one apache-arrow cannot write
 * @throws RunledgerError `PAYLOAD_INVALID` from `decode` for bytes that are not an Arrow IPC file
 * (an Arrow IPC stream is refused too: its media type is another)
 * @example
 * ```ts
 * import { tableFromArrays } from 'apache-arrow';
 * const bytes = arrowCodec.encode(tableFromArrays({ x: Float64Array.of(1, 2), y: ['a', 'b'] }));
 * arrowCodec.decode(bytes).getChild('x')?.toArray(); // Float64Array [1, 2]
 * ```
 */
export const arrowCodec: AttachmentCodec<Table> = {
  mediaType: MEDIA_TYPE,
  encode: (table: Table): Uint8Array => tableToArrowFile(table),
  decode: (bytes: Uint8Array): Table => tableFromArrowFile(bytes),
};
