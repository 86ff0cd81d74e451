package io.braid.rpc.internal;

import com.google.protobuf.ByteString;
import io.braid.api.BraidException;
import io.braid.api.Code;
import io.braid.api.Deadline;
import io.braid.api.Node;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;

/**
 * A call made by this client; it is also the future the caller holds, so one call costs one
 * object. A call may take several attempts (another node, when the request was provably never
 * written, or when it is idempotent); each attempt belongs to one connection, and the fields of the
 * current attempt are touched only on that connection's event loop.
 *
 * @param <R> the decoded response type
 */
public final class PendingCall<R> extends CompletableFuture<R> implements WriteQueue.Item, RoutedCall {
    /** Decodes a response payload. */
    @FunctionalInterface
    public interface Decoder<R> {
        R decode(ByteString payload) throws Exception;
    }

    /** Decodes with {@code codec} into what {@code parser} makes; a null parser means the raw bytes. */
    @SuppressWarnings("unchecked")
    public static <R> Decoder<R> decoder(io.braid.api.Codec codec, com.google.protobuf.Parser<R> parser) {
        return parser == null ? bytes -> (R) bytes.toByteArray() : bytes -> codec.decode(bytes, parser);
    }

    /** Where the client decides about retries; called on the event loop of the failed attempt. */
    public interface Retrier {
        void retryOrFail(PendingCall<?> call, BraidException reason, boolean written);

        /**
         * A token call's attempt was refused as not served there ({@code refusal}, whose
         * {@link io.braid.api.internal.NotServedHere#METADATA_KEY} entry is {@code movedTo}): it
         * did not run, so it may be sent on.
         */
        void reroute(PendingCall<?> call, BraidException refusal, String movedTo);
    }

    final String service;
    final String method;
    final String token;
    final boolean idempotent;
    final Deadline deadline;
    final OutboundFrame.RequestFrame request;
    private final Decoder<R> decoder;
    /** Nodes tried so far: the first alone (most calls make one attempt), the rest in a list. */
    private String firstTried;
    private List<String> laterTried;
    /** Times this call was sent on after a "not served here" refusal; changed on one event loop at a time. */
    private int reroutes;

    private volatile java.util.Map<String, String> responseMetadata = java.util.Map.of();

    // The current attempt; written before it is queued, then read and changed on its event loop.
    volatile ClientConnection connection;
    long callId;
    ScheduledFuture<?> timer;

    /**
     * @param metadata    sent with the request
     * @param caller      this node's id, sent as the {@code braid-caller} entry; null for none
     * @param contentType the wire name of the payload's codec (empty for protobuf binary)
     */
    public PendingCall(String service, String method, String token, boolean idempotent, Deadline deadline,
                       java.util.Map<String, String> metadata, String caller, ByteString payload, String contentType,
                       Decoder<R> decoder) {
        this.service = service;
        this.method = method;
        this.token = token;
        this.idempotent = idempotent;
        this.deadline = deadline;
        this.request = new OutboundFrame.RequestFrame(method, token, metadata, caller, payload, contentType);
        this.decoder = decoder;
    }

    @Override
    public String service() {
        return service;
    }

    @Override
    public String token() {
        return token;
    }

    public Deadline deadline() {
        return deadline;
    }

    /** What the server sent back with its answer; empty before it arrives. */
    public java.util.Map<String, String> responseMetadata() {
        return responseMetadata;
    }

    public boolean idempotent() {
        return idempotent;
    }

    @Override
    public int attempts() {
        return firstTried == null ? 0 : 1 + (laterTried == null ? 0 : laterTried.size());
    }

    /** The node of the latest attempt; null before the first. */
    String lastTried() {
        return laterTried == null || laterTried.isEmpty() ? firstTried : laterTried.get(laterTried.size() - 1);
    }

    /** Times this call was sent on after a "not served here" refusal ({@link Reroute}). */
    int reroutes() {
        return reroutes;
    }

    void countReroute() {
        reroutes++;
    }

    @Override
    public boolean tried(String nodeId) {
        return firstTried != null && (firstTried.equals(nodeId) || (laterTried != null && laterTried.contains(nodeId)));
    }

    /** Starts an attempt on {@code node} through {@code target}. */
    @Override
    public void attempt(Node node, ClientConnection target) {
        if (firstTried == null) {
            firstTried = node.id();
        } else {
            if (laterTried == null) {
                laterTried = new ArrayList<>(2);
            }
            laterTried.add(node.id());
        }
        connection = target;
        callId = 0;
        timer = null;
        target.send(this);
    }

    /** A response for this call arrived (on the event loop). */
    void onResponse(InboundResponse response) {
        noteMetadata(response);
        if (response.getCode() != Code.OK.value()) {
            completeExceptionally(Responses.toException(response));
            return;
        }
        R value;
        try {
            value = decoder.decode(response.getPayload());
        } catch (Exception e) {
            completeExceptionally(new BraidException(Code.INTERNAL,
                    "response of '" + method + "' does not parse: " + e.getMessage(), e));
            return;
        }
        complete(value);
    }

    /**
     * Keeps what the server sent back with {@code response}, for {@link #responseMetadata}: the
     * latest answer's only, so a call sent on after a refusal does not show the refusal's entries.
     */
    void noteMetadata(InboundResponse response) {
        responseMetadata = response.getMetadataCount() > 0 ? response.getMetadataMap() : java.util.Map.of();
    }

    /**
     * The {@link io.braid.api.internal.NotServedHere#METADATA_KEY} entry of a refusal of this token
     * call: the call did not run on that node and may be sent on. Null for an answer that is not
     * such a refusal (success, any other failure, a call without a token).
     */
    String movedTo(InboundResponse response) {
        if (token.isEmpty() || response.getCode() == Code.OK.value() || response.getMetadataCount() == 0) {
            return null;
        }
        return response.getMetadataMap().get(io.braid.api.internal.NotServedHere.METADATA_KEY);
    }

    /** Stops the attempt's timer (on the event loop). */
    void endAttempt() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    @Override
    public void runOnLoop() {
        connection.writeCall(this);
    }

    @Override
    public void abandon() {
        completeExceptionally(new BraidException(Code.UNAVAILABLE, "client is shut down"));
    }

    /** Cancelling the future also tells the server, which may stop the work. */
    @Override
    public boolean cancel(boolean mayInterruptIfRunning) {
        boolean cancelled = super.cancel(mayInterruptIfRunning);
        ClientConnection current = connection;
        if (cancelled && current != null) {
            current.send(this); // on the loop: a done call that is in flight is taken out and a Cancel sent
        }
        return cancelled;
    }

    @Override
    public String toString() {
        return "PendingCall{" + service + "/" + method + (token.isEmpty() ? "" : " token=" + token)
                + " attempts=" + attempts() + " (first " + firstTried + ")" + ", " + super.toString() + "}";
    }
}
