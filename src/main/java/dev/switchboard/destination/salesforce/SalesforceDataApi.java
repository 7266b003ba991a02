package dev.switchboard.destination.salesforce;

import dev.switchboard.destination.http.HttpTransport;
import dev.switchboard.destination.http.OAuthClientCredentials;
import java.io.IOException;
import java.net.URI;
import java.util.HashMap;
import java.util.Map;

/**
 * One org's data API, as the {@code salesforce} destination and enricher call it: the client's
 * shared token ({@link SalesforceClient#session}), requests to the token's {@code instance_url},
 * and one new token when Salesforce answers 401 {@code INVALID_SESSION_ID} (it never says when a
 * session ends, and an admin may revoke it at any time). What an answer means is the caller's.
 */
final class SalesforceDataApi {
  private final SalesforceClient client;
  private final OAuthClientCredentials oauth;
  private final HttpTransport transport;

  SalesforceDataApi(
      SalesforceClient client, OAuthClientCredentials oauth, HttpTransport transport) {
    this.client = client;
    this.oauth = oauth;
    this.transport = transport;
  }

  /**
   * Makes one call with the current token; on 401 {@code INVALID_SESSION_ID} forgets that token
   * (for every connector sharing it) and makes the call once more with a new one.
   *
   * @param path from {@code /services/}, appended to the token's {@code instance_url} (to the login
   *     URL when the answer had none)
   * @throws OAuthClientCredentials.Refused when the token endpoint refuses the client
   * @throws IOException when no answer came, from the token endpoint or the org
   */
  HttpTransport.Answer exchange(String method, String path, byte[] body)
      throws IOException, OAuthClientCredentials.Refused {
    for (int round = 0; ; round++) {
      OAuthClientCredentials.Token token = oauth.token();
      String instance = token.fields().getOrDefault("instance_url", "");
      URI base =
          instance.startsWith("https://") || instance.startsWith("http://")
              ? URI.create(instance.replaceAll("/+$", ""))
              : client.loginUrl();
      Map<String, String> headers = new HashMap<>();
      headers.put("Authorization", "Bearer " + token.value());
      headers.put("Accept", "application/json");
      headers.put("User-Agent", "switchboard");
      if (body != null) {
        headers.put("Content-Type", "application/json");
      }
      HttpTransport.Answer answer =
          transport.exchange(method, URI.create(base + path), headers, body);
      if (answer.status() == 401
          && round == 0
          && "INVALID_SESSION_ID".equals(SalesforceOutcomes.code(answer))) {
        oauth.forget(token); // expired or revoked: one new token, the same attempt
        continue;
      }
      return answer;
    }
  }
}
