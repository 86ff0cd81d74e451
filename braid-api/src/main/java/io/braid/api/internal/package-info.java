/**
 * braid's own kernel, shared by every module: JDK-only helpers ({@code Checks}, {@code SerialScheduler},
 * {@code ExecutorClose}, {@code LoneSurrogates}) and the contracts between modules that users do not call
 * (the link cache's and pub-sub's listeners and figures, the link watcher, the server's token gate,
 * the node as the monitor sees it). Any module may import this package; none may import another
 * module's {@code .internal} package (braid-runtime, which assembles a node, excepted).
 *
 * <p>Not an API: these types may change or go without notice. Users program against
 * {@code io.braid.api} and the {@code Braid} builder.
 */
package io.braid.api.internal;
