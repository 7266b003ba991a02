package dev.switchboard.destination.http;

import java.io.ByteArrayOutputStream;
import java.net.http.HttpResponse.BodyHandler;
import java.net.http.HttpResponse.BodySubscriber;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;

/**
 * Reads at most {@code maxBytes} of an answer as UTF-8 and cancels the rest, so a destination that
 * answers a huge or endless body cannot exhaust memory or hold an attempt. Only an excerpt is kept
 * anyway. Cancelling closes the connection, which is cheaper than draining a large answer.
 */
final class BoundedBody implements BodySubscriber<String> {
  private final int maxBytes;
  private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
  private final CompletableFuture<String> body = new CompletableFuture<>();
  private Flow.Subscription subscription;

  private BoundedBody(int maxBytes) {
    this.maxBytes = maxBytes;
  }

  static BodyHandler<String> handler(int maxBytes) {
    return responseInfo -> new BoundedBody(maxBytes);
  }

  @Override
  public CompletionStage<String> getBody() {
    return body;
  }

  @Override
  public void onSubscribe(Flow.Subscription subscription) {
    this.subscription = subscription;
    subscription.request(1);
  }

  @Override
  public void onNext(List<ByteBuffer> buffers) {
    if (body.isDone()) {
      return; // signals may still arrive after cancel
    }
    for (ByteBuffer buffer : buffers) {
      int take = Math.min(buffer.remaining(), maxBytes - bytes.size());
      byte[] chunk = new byte[take];
      buffer.get(chunk);
      bytes.write(chunk, 0, take);
    }
    if (bytes.size() >= maxBytes) {
      subscription.cancel();
      complete();
    } else {
      subscription.request(1);
    }
  }

  @Override
  public void onError(Throwable failure) {
    // A connection broken after the status line still leaves an answer to classify.
    complete();
  }

  @Override
  public void onComplete() {
    complete();
  }

  private void complete() {
    // A cut may split a multi-byte character: decoding replaces it, which an excerpt can afford.
    body.complete(bytes.toString(StandardCharsets.UTF_8));
  }
}
