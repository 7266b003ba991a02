package dev.switchboard.destination.genesys;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.destination.DeliveryResult;
import dev.switchboard.destination.DeliveryResult.RetryLater;
import dev.switchboard.destination.ErrorClass;
import dev.switchboard.destination.http.HttpOutcomes;
import dev.switchboard.destination.http.HttpTransport;
import dev.switchboard.destination.http.OAuthClientCredentials;
import java.io.IOException;
import java.net.URI;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One destination's calls to the Platform API with the client's shared token: a 401 forgets the
 * token and makes the call once more with a new one, inside the same attempt.
 *
 * <p>Failure policy: nothing is classified here but the lack of an answer; {@link NoAnswer} carries
 * what that came to (a refused token, a timeout, a broken connection), all tried again later.
 */
final class GenesysCalls {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** The call got no answer to classify; {@link #result} is what the attempt came to. */
  static final class NoAnswer extends Exception {
    private final transient DeliveryResult result;
    private final boolean timedOut;

    NoAnswer(DeliveryResult result, boolean timedOut) {
      super(null, null, false, false);
      this.result = result;
      this.timedOut = timedOut;
    }

    DeliveryResult result() {
      return result;
    }

    /**
     * The request went out and no answer came (a timeout, a reset or a closed connection after
     * sending): Genesys may have done the write.
     */
    boolean timedOut() {
      return timedOut;
    }
  }

  private final URI apiUrl;
  private final OAuthClientCredentials tokens;
  private final HttpTransport transport;

  GenesysCalls(URI apiUrl, OAuthClientCredentials tokens, HttpTransport transport) {
    this.apiUrl = apiUrl;
    this.tokens = tokens;
    this.transport = transport;
  }

  /** A GET of {@code path}. */
  HttpTransport.Answer get(String path) throws NoAnswer {
    return call("GET", path, (byte[]) null);
  }

  /** {@code body} as JSON; null for none. */
  HttpTransport.Answer call(String method, String path, JsonNode body) throws NoAnswer {
    byte[] bytes;
    try {
      bytes = body == null ? null : JSON.writeValueAsBytes(body);
    } catch (IOException e) {
      throw new IllegalStateException("cannot serialise a parsed body", e);
    }
    return call(method, path, bytes);
  }

  /** {@code path} starts with {@code /api/v2/} and is already encoded; {@code body} may be null. */
  HttpTransport.Answer call(String method, String path, byte[] body) throws NoAnswer {
    URI uri = URI.create(apiUrl + path);
    for (int round = 0; ; round++) {
      OAuthClientCredentials.Token token;
      try {
        token = tokens.token();
      } catch (OAuthClientCredentials.Refused refused) {
        // wrong credentials are the destination's fault, not the event's: retried, bounded by
        // max_age, so that fixed credentials deliver what waited
        HttpTransport.Answer a = refused.answer();
        throw new NoAnswer(
            // no excerpt: a token endpoint's answer may hold a credential under another name
            new RetryLater("genesys oauth " + a.status() + code(a), a.status(), null, null), false);
      } catch (IOException | RuntimeException e) {
        throw noAnswer(e, false);
      }
      Map<String, String> headers = new LinkedHashMap<>();
      headers.put("Authorization", "Bearer " + token.value());
      headers.put("Accept", "application/json");
      headers.put("User-Agent", "switchboard");
      if (body != null) {
        headers.put("Content-Type", "application/json");
      }
      HttpTransport.Answer answer;
      try {
        answer = transport.exchange(method, uri, headers, body);
      } catch (IOException | RuntimeException e) {
        throw noAnswer(e, true);
      }
      if (answer.status() == 401 && round == 0) {
        tokens.forget(token); // expired or revoked: one new token, the same attempt
        continue;
      }
      return answer;
    }
  }

  private static NoAnswer noAnswer(Exception e, boolean sent) {
    DeliveryResult failure = HttpOutcomes.ofFailure(e);
    if (failure instanceof RetryLater r) {
      boolean timedOut =
          sent && (r.errorClass() == ErrorClass.TIMEOUT || r.errorClass() == ErrorClass.CONNECTION);
      return new NoAnswer(
          RetryLater.noAnswer(r.errorClass(), "genesys " + r.error(), null, null), timedOut);
    }
    return new NoAnswer(failure, false);
  }

  private static String code(HttpTransport.Answer answer) {
    String code = GenesysOutcomes.parse(answer.body()).path("error").asText("");
    return code.isEmpty() || code.length() > 80 ? "" : " " + code;
  }
}
