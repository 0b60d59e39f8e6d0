/**
 * @module oci/media-types
 * Media types and annotation keys of the OCI image-spec 1.1 that runledger uses.
 */

/** `application/vnd.oci.image.manifest.v1+json` */
export const MEDIA_TYPE_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
/** `application/vnd.oci.image.index.v1+json` */
export const MEDIA_TYPE_IMAGE_INDEX = 'application/vnd.oci.image.index.v1+json';
/** `application/vnd.oci.empty.v1+json`: the two-byte `{}` blob. */
export const MEDIA_TYPE_EMPTY = 'application/vnd.oci.empty.v1+json';
/** `application/vnd.oci.layout.header.v1+json`: the `oci-layout` file. */
export const MEDIA_TYPE_LAYOUT_HEADER = 'application/vnd.oci.layout.header.v1+json';
/** Docker's schema 2 manifest, accepted when reading layouts written by other tools. */
export const MEDIA_TYPE_DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
/** Docker's manifest list, accepted when reading layouts written by other tools. */
export const MEDIA_TYPE_DOCKER_MANIFEST_LIST =
  'application/vnd.docker.distribution.manifest.list.v2+json';

/** The annotation that names a reference in an image layout's `index.json`. */
export const ANNOTATION_REF_NAME = 'org.opencontainers.image.ref.name';
/** The annotation holding a layer's file name. */
export const ANNOTATION_TITLE = 'org.opencontainers.image.title';
/** The annotation holding an RFC 3339 creation time. */
export const ANNOTATION_CREATED = 'org.opencontainers.image.created';

// RFC 6838 §4.2 names; parameters as RFC 9110 §5.6 spells them: optional whitespace is only
// space and tab, and a quoted string holds no control character (so no CR or LF anywhere).
const NAME = '[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}';
const TOKEN = '[A-Za-z0-9!#$&^_.+-]+';
const QUOTED = String.raw`"(?:[\t !#-[\]-~\x80-\xff]|\\[\t -~\x80-\xff])*"`;
const MEDIA_TYPE_RE = new RegExp(
  `^${NAME}/${NAME}(?:[ \t]*;[ \t]*${TOKEN}=(?:${QUOTED}|${TOKEN}))*$`
);

/**
 * Whether a string has RFC 6838 media-type syntax (`type/subtype`, optional parameters as RFC
 * 9110 allows them). The one grammar for media types: the manifest reader and every log call use
 * it.
 * @param value - anything
 * @returns true for a syntactically valid media type
 * @example
 * ```ts
 * isMediaType('application/json'); // true
 * isMediaType('text/plain;\r\ncharset=utf-8'); // false
 * ```
 */
export function isMediaType(value: unknown): value is string {
  return typeof value === 'string' && MEDIA_TYPE_RE.test(value);
}
