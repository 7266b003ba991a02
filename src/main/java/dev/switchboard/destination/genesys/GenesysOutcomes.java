package dev.switchboard.destination.genesys;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.destination.DeliveryResult;
import dev.switchboard.destination.DeliveryResult.Delivered;
import dev.switchboard.destination.DeliveryResult.Rejected;
import dev.switchboard.destination.DeliveryResult.RetryLater;
import dev.switchboard.destination.ErrorClass;
import dev.switchboard.destination.http.HttpOutcomes;
import dev.switchboard.destination.http.HttpTransport.Answer;
import java.io.IOException;
import java.time.Instant;

/**
 * The Platform API's answers read into {@link DeliveryResult}s: what {@link HttpOutcomes} is for
 * plain HTTP, with Genesys's error body {@code {message, code, status, contextId, details, errors}}
 * read into the error text ({@code genesys 400 bad.request: …}).
 *
 * <p>Failure policy: 2xx delivered; 429 tried again no sooner than its {@code Retry-After}, which
 * holds the whole destination (the limit is per token, so every delivery would meet it); 408, 5xx
 * and a 401 that a fresh token did not cure tried again (the breaker and {@code max_age} bound
 * them, and fixed credentials deliver what waited); every other 4xx is dead at once with Genesys's
 * code and message. Error texts never carry the token, the secret or a URL.
 */
final class GenesysOutcomes {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int EXCERPT_CHARS = 500;
  private static final int MESSAGE_CHARS = 200;

  private GenesysOutcomes() {}

  static DeliveryResult of(Answer answer, Instant now) {
    int status = answer.status();
    String excerpt = excerpt(answer);
    if (status >= 200 && status < 300) {
      return new Delivered(status, excerpt);
    }
    String error = error(answer);
    if (status == 401 || status == 408 || status == 429 || status >= 500) {
      return new RetryLater(
          error, status, HttpOutcomes.retryAfter(answer.headers(), now), excerpt, null);
    }
    return new Rejected(error, status, excerpt);
  }

  /** {@code genesys <status> <code>: <message>}, as much of it as the answer gives. */
  static String error(Answer answer) {
    JsonNode body = parse(answer.body());
    String code = body.path("code").asText("");
    String message = HttpOutcomes.excerpt(body.path("message").asText(""), MESSAGE_CHARS);
    StringBuilder error = new StringBuilder("genesys ").append(answer.status());
    if (!code.isEmpty() && code.length() <= 80) {
      error.append(' ').append(code);
    }
    if (!message.isEmpty()) {
      error.append(": ").append(message);
    }
    return error.toString();
  }

  /** A delivery refused before any request: the transform's output does not fit the operation. */
  static Rejected refused(String why) {
    return new Rejected("genesys: " + why, 0, null, ErrorClass.ERROR);
  }

  static String excerpt(Answer answer) {
    return HttpOutcomes.excerpt(answer.body(), EXCERPT_CHARS);
  }

  static JsonNode parse(String body) {
    try {
      JsonNode node = body == null || body.isEmpty() ? null : JSON.readTree(body);
      return node == null ? JSON.missingNode() : node;
    } catch (IOException e) {
      return JSON.missingNode(); // HTML from the edge, a cut answer, …
    }
  }
}
