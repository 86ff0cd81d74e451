package io.braid.rpc;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.util.ResourceLeakDetector;
import io.netty.util.ResourceLeakDetectorFactory;
import io.netty.util.ResourceLeakTracker;
import java.lang.ref.PhantomReference;
import java.lang.ref.Reference;
import java.lang.ref.ReferenceQueue;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a test class when Netty reports a leaked resource (a {@code ByteBuf} not released, a
 * timer not stopped) while or before it ran. Netty's own detector only logs; this one also records
 * each report, and after every test class collects garbage, has Netty look for leaks, and fails the
 * class with the records.
 *
 * <p>Registered for every test class of this module by JUnit's extension auto-detection
 * ({@code META-INF/services/org.junit.jupiter.api.extension.Extension} and
 * {@code junit.jupiter.extensions.autodetection.enabled=true} in {@code junit-platform.properties}).
 * The engine instantiates auto-detected extensions when it starts, before any test class is
 * initialised, so the static initialiser below installs the recording factory before Netty makes
 * its first leak detector. Netty asks the factory only once per resource type, so a factory
 * installed later records nothing; {@link #beforeAll} fails every class if that happened.
 *
 * <p>Leaks are found when the garbage collector has cleared the leaked object, so a leak is
 * reported after the class that made it, or (rarely) after a later one: the record says where the
 * resource was made and last touched, which is what to read. Detection runs at level PARANOID
 * (the build sets it; a run from an IDE is raised to it here).
 */
public final class NettyLeakCheck implements BeforeAllCallback, AfterAllCallback {
    private static final Queue<String> REPORTS = new ConcurrentLinkedQueue<>();
    private static final List<ResourceLeakDetector<?>> DETECTORS = new CopyOnWriteArrayList<>();
    private static final boolean INSTALLED_IN_TIME = install();

    /** For JUnit's service loader. */
    public NettyLeakCheck() {
    }

    private static boolean install() {
        if (ResourceLeakDetector.getLevel().ordinal() < ResourceLeakDetector.Level.PARANOID.ordinal()) {
            ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
        }
        ResourceLeakDetectorFactory.setResourceLeakDetectorFactory(new RecordingFactory());
        // Makes Netty create its ByteBuf detector now. If it already had one, it was not ours.
        ByteBuf probe = Unpooled.buffer(1);
        probe.release();
        return DETECTORS.stream().anyMatch(detector -> ((RecordingDetector<?>) detector).resource == ByteBuf.class);
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        if (!INSTALLED_IN_TIME) {
            throw new IllegalStateException("NettyLeakCheck was installed after Netty made its ByteBuf leak detector,"
                    + " so leaks would go unnoticed. It must load when the test engine starts: is"
                    + " junit.jupiter.extensions.autodetection.enabled=true in junit-platform.properties?");
        }
    }

    @Override
    public void afterAll(ExtensionContext context) {
        collectPendingLeaks();
        failIfAny(takeReports(report -> true), context.getDisplayName());
    }

    /** Whether the recording factory made Netty's ByteBuf leak detector (it must, to see anything). */
    static boolean installedInTime() {
        return INSTALLED_IN_TIME;
    }

    /**
     * Runs the garbage collector until it has processed references, then has every detector look
     * at what it found; a leaked resource that is unreachable by now is reported and recorded.
     */
    static void collectPendingLeaks() {
        for (int round = 0; round < 2; round++) {
            awaitGarbageCollection();
            for (ResourceLeakDetector<?> detector : DETECTORS) {
                poke(detector);
            }
        }
    }

    /** Takes the recorded reports that match out of the record. */
    static List<String> takeReports(Predicate<String> matching) {
        List<String> taken = new ArrayList<>();
        REPORTS.removeIf(report -> {
            if (matching.test(report)) {
                taken.add(report);
                return true;
            }
            return false;
        });
        return taken;
    }

    /** Throws an AssertionError naming {@code scope} and quoting every report, if there is any. */
    static void failIfAny(List<String> reports, String scope) {
        if (!reports.isEmpty()) {
            throw new AssertionError(reports.size() + " Netty resource leak(s) reported while or before " + scope
                    + " ran:\n\n" + String.join("\n\n", reports));
        }
    }

    /** Netty reports the leaks a detector has collected when that detector tracks something new. */
    @SuppressWarnings("unchecked")
    private static void poke(ResourceLeakDetector<?> detector) {
        Object probe = new Object();
        ResourceLeakTracker<Object> tracker = ((ResourceLeakDetector<Object>) detector).trackForcibly(probe);
        if (tracker != null) {
            tracker.close(probe);
        }
    }

    /** Waits (up to 5 s) until a collection has cleared an unreachable object and queued its reference. */
    private static void awaitGarbageCollection() {
        ReferenceQueue<Object> queue = new ReferenceQueue<>();
        PhantomReference<Object> sentinel = new PhantomReference<>(new Object(), queue);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        try {
            while (System.nanoTime() < deadline) {
                System.gc();
                if (queue.remove(50) != null) {
                    return;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            Reference.reachabilityFence(sentinel);
        }
    }

    private static final class RecordingFactory extends ResourceLeakDetectorFactory {
        @Override
        public <T> ResourceLeakDetector<T> newResourceLeakDetector(Class<T> resource, int samplingInterval,
                                                                   long maxActive) {
            return newResourceLeakDetector(resource, samplingInterval);
        }

        @Override
        public <T> ResourceLeakDetector<T> newResourceLeakDetector(Class<T> resource, int samplingInterval) {
            RecordingDetector<T> detector = new RecordingDetector<>(resource, samplingInterval);
            DETECTORS.add(detector);
            return detector;
        }
    }

    /** Netty's detector, which also records what it reports, whatever the log level. */
    private static final class RecordingDetector<T> extends ResourceLeakDetector<T> {
        private final Class<T> resource;

        RecordingDetector(Class<T> resource, int samplingInterval) {
            super(resource, samplingInterval);
            this.resource = resource;
        }

        @Override
        protected boolean needReport() {
            return true;
        }

        @Override
        protected void reportTracedLeak(String resourceType, String records) {
            REPORTS.add("LEAK: " + resourceType + ".release() was not called before it was garbage-collected." + records);
            super.reportTracedLeak(resourceType, records);
        }

        @Override
        protected void reportUntracedLeak(String resourceType) {
            REPORTS.add("LEAK: " + resourceType + ".release() was not called before it was garbage-collected"
                    + " (no record of where: the leak was not sampled).");
            super.reportUntracedLeak(resourceType);
        }
    }
}
