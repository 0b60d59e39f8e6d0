/**
 * @module runledger/oci
 * The artifact format's building blocks, for tools that work below experiments: digests,
 * canonical JSON, descriptor / manifest / index parsing and serialising, references, the OCI
 * image layout, and every media type and annotation key runledger reads and writes (OCI's,
 * Docker's and OMMX's). `import { digestOf, MEDIA_TYPE_MANIFEST } from 'runledger/oci'`.
 */
export {
  parseDigest,
  isDigest,
  digestOf,
  digestOfStream,
  digestHex,
  Digester,
} from '../oci/digest.js';
export type { Digest } from '../oci/digest.js';
export { canonicalJson, canonicalJsonBytes } from '../oci/canonical-json.js';
export type { JsonValue } from '../oci/canonical-json.js';
export { parseDescriptor, MAX_MANIFEST_SIZE } from '../oci/descriptor.js';
export { parseManifest, serializeManifest } from '../oci/manifest.js';
export { parseImageIndex, serializeImageIndex } from '../oci/image-index.js';
export { parseReference, formatReference, normalizeReference } from '../oci/reference.js';
export type { Reference } from '../oci/reference.js';
export {
  MEDIA_TYPE_MANIFEST,
  MEDIA_TYPE_IMAGE_INDEX,
  MEDIA_TYPE_EMPTY,
  MEDIA_TYPE_LAYOUT_HEADER,
  MEDIA_TYPE_DOCKER_MANIFEST,
  MEDIA_TYPE_DOCKER_MANIFEST_LIST,
  ANNOTATION_REF_NAME,
  ANNOTATION_TITLE,
  ANNOTATION_CREATED,
  isMediaType,
} from '../oci/media-types.js';
export { OCI_LAYOUT_VERSION, blobPath } from '../oci/layout.js';
export type { Annotations, Descriptor, ImageIndex, Manifest } from '../oci/types.js';

export {
  MEDIA_TYPE_EXPERIMENT,
  MEDIA_TYPE_EXPERIMENT_CONFIG,
  MEDIA_TYPE_RUN_PARAMETERS,
} from '../experiment/config.js';
export { MEDIA_TYPE_ARTIFACT } from '../experiment/artifact.js';
export { MEDIA_TYPE_METRICS } from '../experiment/metrics.js';
export { MEDIA_TYPE_RUN, MEDIA_TYPE_RUNS } from '../experiment/run-record.js';
export {
  MEDIA_TYPE_INSTANCE,
  MEDIA_TYPE_INSTANCE_V1,
  MEDIA_TYPE_PARAMETRIC_INSTANCE,
  MEDIA_TYPE_PARAMETRIC_INSTANCE_V1,
  MEDIA_TYPE_SAMPLE_SET,
  MEDIA_TYPE_SAMPLE_SET_V1,
  MEDIA_TYPE_SOLUTION,
  MEDIA_TYPE_SOLUTION_V1,
} from '../ommx/media-types.js';
