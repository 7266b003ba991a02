package dev.switchboard.demo.genesys;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The login host's side of the fake: the one OAuth client's credentials, the bearer tokens issued
 * to it, their lifetime and their revocation.
 */
final class Tokens {
  /** An issued token: whose it is and until when it works. */
  private record Token(String clientId, Instant expires) {}

  private final String clientId;
  private final String expectedAuthorization;
  private final Map<String, Token> tokens = new ConcurrentHashMap<>();
  private final AtomicInteger issued = new AtomicInteger();
  private final java.util.List<String> everIssued =
      new java.util.concurrent.CopyOnWriteArrayList<>();
  private volatile Duration lifetime = Duration.ofHours(24);

  Tokens(String clientId, String clientSecret) {
    this.clientId = clientId;
    this.expectedAuthorization =
        "Basic "
            + Base64.getEncoder()
                .encodeToString((clientId + ":" + clientSecret).getBytes(StandardCharsets.UTF_8));
  }

  /** Whether a token request's {@code Authorization} header carries the client's credentials. */
  boolean authenticates(String authorization) {
    return expectedAuthorization.equals(authorization);
  }

  /** Issues a token for the client; returns the token endpoint's answer. */
  Map<String, Object> issue() {
    String token = UUID.randomUUID().toString().replace("-", "") + issued.incrementAndGet();
    Duration lifetime = this.lifetime;
    tokens.put(token, new Token(clientId, Instant.now().plus(lifetime)));
    everIssued.add(token);
    Map<String, Object> answer = new LinkedHashMap<>();
    answer.put("access_token", token);
    answer.put("token_type", "bearer");
    answer.put("expires_in", lifetime.toSeconds());
    return answer;
  }

  /**
   * The client a Platform API call's {@code Authorization: Bearer} header belongs to; null when the
   * header is missing, or the token unknown, revoked or expired.
   */
  String clientOf(String authorization) {
    Token token =
        authorization != null && authorization.regionMatches(true, 0, "Bearer ", 0, 7)
            ? tokens.get(authorization.substring(7))
            : null;
    if (token == null || !Instant.now().isBefore(token.expires())) {
      return null;
    }
    return token.clientId();
  }

  /** Every token ever issued, revoked ones too. */
  java.util.List<String> everIssued() {
    return java.util.List.copyOf(everIssued);
  }

  /** Every token issued so far stops working. */
  void revokeAll() {
    tokens.clear();
  }

  /** The lifetime of tokens issued from now on. */
  void lifetime(Duration lifetime) {
    this.lifetime = lifetime;
  }

  int issued() {
    return issued.get();
  }
}
