package dev.switchboard.config;

import dev.switchboard.config.YamlNodeReader.Scalar;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Reads the keys of a {@code type: genesys-notifications} source (docs/sources.md, "Genesys Cloud
 * notifications"): the OAuth client, the topics, and how gaps are backfilled and channels kept.
 */
final class PullSection {
  static final String GENESYS_NOTIFICATIONS = "genesys-notifications";

  static final List<String> KEYS =
      List.of(
          "type",
          "region",
          "client_id",
          "client_secret",
          "login_url",
          "api_url",
          "topics",
          "queues",
          "users",
          "backfill",
          "channel");
  static final List<String> BACKFILL_KEYS = List.of("enabled", "lookback", "overlap", "settle");
  static final List<String> CHANNEL_KEYS = List.of("rotate_after", "ping_after", "dead_after");

  /** A topic as Genesys writes them: dotted names, {@code {id}} where a list fills it in. */
  static final Pattern TOPIC = Pattern.compile("v2(\\.([A-Za-z0-9_-]+|\\{id}))+");

  static final Pattern ID = Pattern.compile("[A-Za-z0-9-]+");

  static final Duration DEFAULT_LOOKBACK = Duration.ofHours(4);
  static final Duration DEFAULT_OVERLAP = Duration.ofMinutes(1);
  static final Duration DEFAULT_ROTATE_AFTER = Duration.ofHours(20);
  static final Duration DEFAULT_PING_AFTER = Duration.ofSeconds(45);
  static final Duration DEFAULT_DEAD_AFTER = Duration.ofSeconds(95);

  private PullSection() {}

  static PullConfig read(YamlNodeReader source) {
    String clientId = source.required("client_id");
    String clientSecret = source.required("client_secret");
    URI[] urls = urls(source);
    List<String> topics = topics(source);
    YamlNodeReader backfill = source.mapping("backfill");
    backfill.checkKeys(BACKFILL_KEYS);
    YamlNodeReader channel = source.mapping("channel");
    channel.checkKeys(CHANNEL_KEYS);
    Duration ping = channel.duration("ping_after", DEFAULT_PING_AFTER);
    Duration dead = channel.duration("dead_after", DEFAULT_DEAD_AFTER);
    if (ping != null && dead != null && dead.compareTo(ping) <= 0) {
      channel.problem("dead_after", "dead_after must be longer than ping_after");
    }
    Duration rotate = channel.duration("rotate_after", DEFAULT_ROTATE_AFTER);
    if (rotate != null && rotate.compareTo(Duration.ofHours(23)) > 0) {
      channel.problem(
          "rotate_after", "rotate_after must be at most 23h: Genesys closes a channel after 24h");
    }
    if (urls == null || clientId == null || clientSecret == null) {
      return null;
    }
    return new PullConfig(
        urls[0],
        urls[1],
        clientId,
        clientSecret,
        topics,
        new PullConfig.Backfill(
            backfill.bool("enabled", true),
            backfill.duration("lookback", DEFAULT_LOOKBACK),
            backfill.duration("overlap", DEFAULT_OVERLAP),
            backfill.duration("settle", Duration.ZERO)),
        rotate,
        ping,
        dead);
  }

  /** login and API URLs: from {@code region}, or both given (a proxy, a test's fake). */
  private static URI[] urls(YamlNodeReader source) {
    boolean login = source.has("login_url");
    boolean api = source.has("api_url");
    if (login != api) {
      source.problem(login ? "api_url" : "login_url", "give login_url and api_url together");
      return null;
    }
    if (login) {
      SettingsReader reader = new SettingsReader(source);
      String loginUrl = reader.httpUrl("login_url", true);
      String apiUrl = reader.httpUrl("api_url", true);
      return loginUrl == null || apiUrl == null
          ? null
          : new URI[] {URI.create(trim(loginUrl)), URI.create(trim(apiUrl))};
    }
    String region = source.string("region");
    if (region == null) {
      source.problem(
          "region", "region is required (e.g. mypurecloud.com), or both login_url and api_url");
      return null;
    }
    if (!region.matches("[a-z0-9-]+(\\.[a-z0-9-]+)+")) {
      source.problem("region", "region is the domain of your org, e.g. mypurecloud.ie");
      return null;
    }
    return new URI[] {URI.create("https://login." + region), URI.create("https://api." + region)};
  }

  /**
   * {@code topics:} each checked; {@code {id}} expanded over {@code queues:} in {@code
   * v2.routing.queues.{id}.…} and over {@code users:} in {@code v2.users.{id}.…}. At most 20
   * channels of 1,000 topics each.
   */
  private static List<String> topics(YamlNodeReader source) {
    if (!source.has("topics")) {
      source.problem("topics", "topics is required: the Notification API topics to subscribe to");
      return List.of();
    }
    List<String> queues = ids(source, "queues");
    List<String> users = ids(source, "users");
    Set<String> expanded = new LinkedHashSet<>();
    List<Scalar> written = source.scalars("topics");
    if (written.isEmpty()) {
      source.problem("topics", "topics must list at least one topic");
    }
    for (Scalar topic : written) {
      String text = topic.value() == null ? "" : topic.value().trim();
      if (!TOPIC.matcher(text).matches()) {
        source.problem(
            topic, topic.shown() + " is not a topic (e.g. v2.routing.queues.{id}.conversations)");
      } else if (!text.contains("{id}")) {
        expanded.add(text);
      } else if (text.startsWith("v2.routing.queues.{id}.") && text.indexOf("{id}", 20) < 0) {
        expandInto(expanded, text, queues, source, topic, "queues");
      } else if (text.startsWith("v2.users.{id}.") && text.indexOf("{id}", 10) < 0) {
        expandInto(expanded, text, users, source, topic, "users");
      } else {
        source.problem(
            topic,
            topic.shown()
                + ": {id} is filled in only in v2.routing.queues.{id}.… (from queues:) and"
                + " v2.users.{id}.… (from users:); write the id itself here");
      }
    }
    // one channel of the client's 20 stays free: a channel is replaced by a new one first
    int most = PullConfig.TOPICS_PER_CHANNEL * (PullConfig.CHANNELS_PER_CLIENT - 1);
    if (expanded.size() > most) {
      source.problem(
          "topics",
          expanded.size()
              + " topics: at most "
              + most
              + " (19 channels of 1,000 topics: Genesys allows one client 20 channels, and one"
              + " stays free to replace a channel before closing it)");
    }
    return List.copyOf(expanded);
  }

  private static void expandInto(
      Set<String> into,
      String topic,
      List<String> ids,
      YamlNodeReader source,
      Scalar at,
      String listKey) {
    if (ids.isEmpty()) {
      source.problem(at, at.shown() + " needs the ids to fill in: list them under " + listKey);
    }
    for (String id : ids) {
      into.add(topic.replace("{id}", id));
    }
  }

  private static List<String> ids(YamlNodeReader source, String key) {
    List<String> ids = new ArrayList<>();
    for (Scalar id : source.scalars(key)) {
      String text = id.value() == null ? "" : id.value().trim();
      if (!ID.matcher(text).matches()) {
        source.problem(id, id.shown() + " is not a Genesys id (letters, digits and -)");
      } else {
        ids.add(text);
      }
    }
    return ids;
  }

  private static String trim(String url) {
    return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
  }
}
