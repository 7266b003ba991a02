package dev.switchboard.pull.genesys;

import dev.switchboard.config.PullConfig;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Tries a {@code genesys-notifications} source's Genesys side once, as the source would, and says
 * what is wrong in a Genesys admin's words ({@code switchboard genesys check}, docs/sources.md): a
 * token, a channel subscribed to each slice of at most 1,000 topics, and one Analytics query.
 *
 * <p>The channels it creates are never connected: Genesys drops them after 24 hours, and sooner
 * when the client needs room (it replaces the oldest unconnected channel first). A client already
 * holding 20 connected channels (a gateway pulling 20,000 topics) loses its oldest one to the
 * check, which that gateway replaces and backfills. Nothing here prints a secret, a token or
 * Genesys's own error text.
 */
public final class GenesysCheck {
  /** How far back the Analytics query looks: short, so the check costs Genesys little. */
  static final Duration QUERY_WINDOW = Duration.ofMinutes(5);

  /** What one check found. */
  public enum Outcome {
    OK,
    FAILED,
    /** Not tried: an earlier check failed, or the source does not need it. */
    SKIPPED
  }

  /**
   * @param check what was tried, e.g. {@code channel 1 of 2 (1000 topics)}
   * @param detail what it found, in words; never a secret or a token
   */
  public record Result(String check, Outcome outcome, String detail) {
    public boolean ok() {
      return outcome == Outcome.OK;
    }
  }

  private GenesysCheck() {}

  /** Runs every check in order; after a failed token the others are {@link Outcome#SKIPPED}. */
  public static List<Result> run(PullConfig config, Clock clock) {
    List<List<String>> slices = new ArrayList<>();
    for (int i = 0; i < config.topics().size(); i += PullConfig.TOPICS_PER_CHANNEL) {
      slices.add(
          config
              .topics()
              .subList(i, Math.min(config.topics().size(), i + PullConfig.TOPICS_PER_CHANNEL)));
    }
    String queryCheck =
        "analytics conversation-details query (last " + QUERY_WINDOW.toMinutes() + " minutes)";
    List<Result> results = new ArrayList<>();
    try (PlatformApi api = new PlatformApi(config, clock)) {
      String tokenCheck = "token from " + config.loginUrl().getAuthority();
      boolean authenticated = false;
      try {
        api.authenticate();
        authenticated = true;
        results.add(new Result(tokenCheck, Outcome.OK, "the OAuth client got a token"));
      } catch (PlatformApi.Refused refused) {
        results.add(new Result(tokenCheck, Outcome.FAILED, tokenWords(refused, config)));
      }
      for (int i = 0; i < slices.size(); i++) {
        String name =
            "channel "
                + (i + 1)
                + " of "
                + slices.size()
                + " ("
                + topics(slices.get(i).size())
                + ")";
        results.add(
            authenticated
                ? channel(api, name, slices.get(i), config)
                : new Result(name, Outcome.SKIPPED, "no token"));
      }
      if (!config.backfill().enabled()) {
        results.add(new Result(queryCheck, Outcome.SKIPPED, "backfill is disabled: not needed"));
      } else {
        results.add(
            authenticated
                ? query(api, queryCheck, clock.instant(), config)
                : new Result(queryCheck, Outcome.SKIPPED, "no token"));
      }
    }
    return results;
  }

  private static Result channel(
      PlatformApi api, String name, List<String> topics, PullConfig config) {
    PlatformApi.Channel channel;
    try {
      channel = api.createChannel();
    } catch (PlatformApi.Refused refused) {
      String words =
          switch (refused.status) {
            case 403 ->
                "the OAuth client may not create notification channels (HTTP 403): check the"
                    + " roles given to the OAuth client";
            default -> apiWords(refused, config);
          };
      return new Result(name, Outcome.FAILED, "cannot create a channel: " + words);
    }
    try {
      api.subscribe(channel.id(), topics);
    } catch (PlatformApi.Refused refused) {
      String words;
      if (refused.topic != null) {
        words =
            "Genesys does not accept the topic "
                + refused.topic
                + " (unknown, misspelt, or not allowed for this client)";
      } else if (refused.status == 403) {
        words =
            "the OAuth client lacks a permission these topics need (HTTP 403): give its role the"
                + " permissions Genesys's Notification API lists for each topic";
      } else if (refused.status == 400) {
        words =
            "Genesys refused the subscription (HTTP 400): a topic it does not accept, or more"
                + " than "
                + PullConfig.TOPICS_PER_CHANNEL
                + " topics on a channel";
      } else {
        words = apiWords(refused, config);
      }
      return new Result(name, Outcome.FAILED, "cannot subscribe: " + words);
    }
    return new Result(name, Outcome.OK, "created and subscribed");
  }

  private static Result query(PlatformApi api, String name, Instant now, PullConfig config) {
    try {
      PlatformApi.Page page = api.conversations(now.minus(QUERY_WINDOW), now, 1, 1);
      long found = page.totalHits();
      return new Result(
          name,
          Outcome.OK,
          "allowed (" + found + (found == 1 ? " conversation" : " conversations") + " found)");
    } catch (PlatformApi.Refused refused) {
      String words =
          switch (refused.status) {
            case 403 ->
                "the OAuth client lacks the permission Analytics > Conversation Detail > View"
                    + " (analytics:conversationDetail:view); without it, gaps after a reconnect"
                    + " cannot be backfilled";
            default -> apiWords(refused, config);
          };
      return new Result(name, Outcome.FAILED, words);
    }
  }

  /** {@code 1 topic}, {@code 1000 topics}. */
  public static String topics(int n) {
    return n + (n == 1 ? " topic" : " topics");
  }

  private static String tokenWords(PlatformApi.Refused refused, PullConfig config) {
    String host = config.loginUrl().getAuthority();
    return switch (refused.status) {
      case 0 -> "cannot reach " + host + ": check the region or login_url, and the network";
      case 400, 401 ->
          "the OAuth client was refused (HTTP "
              + refused.status
              + "): check client_id and client_secret (and the region: a client exists in one"
              + " region only), and that the client's grant type is Client Credentials";
      case 404 -> "no token endpoint at " + host + " (HTTP 404): wrong region or login_url";
      case 429 -> "rate limited by the login host (HTTP 429): try again in a minute";
      default ->
          refused.status >= 500
              ? "Genesys's login host had an error (HTTP " + refused.status + "): try again later"
              : "the login host refused the token request (HTTP " + refused.status + ")";
    };
  }

  /** The refusals any Platform API call can get. */
  private static String apiWords(PlatformApi.Refused refused, PullConfig config) {
    String host = config.apiUrl().getAuthority();
    return switch (refused.status) {
      case 0 -> "cannot reach " + host + ": check the region or api_url, and the network";
      case 401 ->
          "the Platform API refused the token (HTTP 401): are login_url and api_url in the same"
              + " region?";
      case 404 -> "not found at " + host + " (HTTP 404): wrong region or api_url";
      case 429 -> "rate limited by the Platform API (HTTP 429): try again in a minute";
      default ->
          refused.status >= 500
              ? "Genesys had an error (HTTP " + refused.status + "): try again later"
              : refused.getMessage();
    };
  }
}
