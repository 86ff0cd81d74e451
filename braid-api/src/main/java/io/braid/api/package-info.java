/**
 * The public contract of braid: what a gateway or logic server sees of the cluster. Interfaces
 * and immutable value types only; no I/O. Implementations live in the other modules, behind the
 * {@code Braid} builder of braid-runtime.
 */
package io.braid.api;
