// The shapes of identifiers and names in the device contract. Each pattern is
// written once, as a source string (for JSON schemas and HTML `pattern`
// attributes) and as a RegExp built from it. A `-` in a class is escaped:
// browsers compile `pattern` attributes with the `v` flag, where a bare one
// is a syntax error (and an invalid pattern checks nothing).

/** Site and device ids: a letter or digit, then up to 63 of letters, digits and `_ . : -`. */
export const ID_SOURCE = '^[A-Za-z0-9][A-Za-z0-9_.:\\-]{0,63}$';
/** Device class ids: they are part of a namespace name (`/devices/<class>`). */
export const CLASS_SOURCE = '^[a-z0-9\\-]{1,32}$';
/** Metric, attribute, command and event-kind names. */
export const NAME_SOURCE = '^[A-Za-z0-9_.:\\-]{1,64}$';

/** Site and device ids. */
export const ID_PATTERN = new RegExp(ID_SOURCE);
/** Device class ids. */
export const CLASS_PATTERN = new RegExp(CLASS_SOURCE);
/** Metric, attribute, command and event-kind names. */
export const NAME_PATTERN = new RegExp(NAME_SOURCE);

/** The device namespaces' common prefix. */
export const DEVICE_NAMESPACE_PREFIX = '/devices/';
/** Device namespaces: `/devices/` followed by a class id. */
export const DEVICE_NAMESPACE = new RegExp('^\\/devices\\/' + CLASS_SOURCE.slice(1));

/** The namespace a device of class `classId` connects to. */
export function deviceNamespace(classId: string): string {
  return DEVICE_NAMESPACE_PREFIX + classId;
}
