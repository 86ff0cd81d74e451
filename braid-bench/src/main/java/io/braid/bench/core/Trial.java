package io.braid.bench.core;

/** Produces one measured sample of one subject: set up (or reuse), measure one window, tear down. */
@FunctionalInterface
public interface Trial {
    Sample run(Window window) throws Exception;
}
