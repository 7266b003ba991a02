package dev.switchboard.destination.http;

import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Makes one authenticated exchange for an {@code http} destination or enricher: adds the {@code
 * Authorization} header its {@link HttpAuth} gives and, for an OAuth client, asks again once when
 * the API answers 401, with a fresh token, inside the same attempt.
 *
 * <p>OAuth tokens come from the gateway's {@link OAuthSessions}: every connector with the same
 * client shares one token, renewed {@link #TOKEN_MARGIN} before {@code expires_in} runs out.
 *
 * <p>Failure policy: nothing is classified here. A token endpoint that gives no token is {@link
 * OAuthClientCredentials.Refused}, for the caller to turn into its own retry; a transport failure
 * is the transport's {@link IOException}. Tokens and secrets are never logged nor put in a message.
 */
public final class HttpAuthenticator {
  /** How long before a token's {@code expires_in} ends it is renewed. */
  public static final Duration TOKEN_MARGIN = Duration.ofMinutes(1);

  private final String header;
  private final OAuthClientCredentials tokens;

  /**
   * @param auth the configured {@code auth:}, or null for none
   * @param sessions where OAuth tokens are shared; unused without an OAuth client
   */
  public HttpAuthenticator(HttpAuth auth, OAuthSessions sessions) {
    this.header =
        switch (auth) {
          case null -> null;
          case HttpAuth.Bearer b -> "Bearer " + b.token();
          case HttpAuth.Basic b -> b.header();
          case HttpAuth.ClientCredentials c -> null;
        };
    this.tokens =
        auth instanceof HttpAuth.ClientCredentials c
            ? sessions.session(
                c.tokenUrl(),
                c.clientId(),
                c.clientSecret(),
                c.clientAuth(),
                TOKEN_MARGIN,
                c.form())
            : null;
  }

  /**
   * Sends one request with the credentials; for an OAuth client, a 401 answer forgets the token and
   * the request is sent once more with a new one.
   *
   * @param headers the request's other headers, in order; an {@code Authorization} among them is
   *     replaced
   * @throws OAuthClientCredentials.Refused when the token endpoint gave no token
   * @throws IOException when there was no answer
   */
  public HttpTransport.Answer exchange(
      HttpTransport transport, String method, URI uri, Map<String, String> headers, byte[] body)
      throws IOException, OAuthClientCredentials.Refused {
    if (tokens == null) {
      return transport.exchange(method, uri, with(headers, header), body);
    }
    for (int round = 0; ; round++) {
      OAuthClientCredentials.Token token = tokens.token();
      HttpTransport.Answer answer =
          transport.exchange(method, uri, with(headers, "Bearer " + token.value()), body);
      if (answer.status() == 401 && round == 0) {
        tokens.forget(token); // expired early or revoked: one new token, one more try
        continue;
      }
      return answer;
    }
  }

  private static Map<String, String> with(Map<String, String> headers, String authorization) {
    if (authorization == null) {
      return headers;
    }
    Map<String, String> all = new LinkedHashMap<>();
    headers.forEach(
        (name, value) -> {
          if (!name.equalsIgnoreCase("authorization")) {
            all.put(name, value);
          }
        });
    all.put("Authorization", authorization);
    return all;
  }
}
