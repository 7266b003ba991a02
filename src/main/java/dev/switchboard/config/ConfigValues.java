package dev.switchboard.config;

import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The value syntaxes of the configuration language: durations ({@code 500ms}, {@code 48h}), sizes
 * ({@code 256KB}, binary), rate limits ({@code 50/minute}), CIDRs and URLs. Public so that
 * connectors can read the duration and size strings they keep in their {@code settings} the same
 * way the loader checked them.
 *
 * <p>Every parser throws {@link IllegalArgumentException} whose message says what form is expected
 * and never repeats the value (it may be a secret).
 */
public final class ConfigValues {
  static final String DURATION_FORM = "expected a number and a unit (ms, s, m, h, d), e.g. 30s";
  static final String SIZE_FORM = "expected a number and a unit (B, KB, MB, GB), e.g. 1MB";
  static final String RATE_FORM =
      "expected a count per unit (second, minute, hour or s, m, h), e.g. 50/minute";
  static final String CIDR_FORM =
      "expected an IPv4 or IPv6 address with an optional /prefix, e.g. 10.0.0.0/8 or"
          + " 2001:db8::/32";
  static final String URL_FORM = "expected an http:// or https:// URL with a host";

  /** Longer durations are surely mistakes, and would overflow instant arithmetic later. */
  static final Duration MAX_DURATION = Duration.ofDays(36_500);

  private static final Pattern DURATION = Pattern.compile("(\\d{1,15})\\s*(ms|s|m|h|d)");
  private static final Pattern SIZE = Pattern.compile("(\\d{1,15})\\s*(B|KB|MB|GB)");
  private static final Pattern RATE =
      Pattern.compile("(\\d{1,15})\\s*/\\s*(second|minute|hour|s|m|h)");
  private static final Pattern IPV4 =
      Pattern.compile(
          "((25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)\\.){3}(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)");
  private static final Pattern IPV6_CHARS = Pattern.compile("[0-9A-Fa-f:.]+");

  private ConfigValues() {}

  /** {@code 500ms}, {@code 10s}, {@code 15m}, {@code 48h}, {@code 3d}, or {@code 0}. */
  public static Duration duration(String text) {
    String t = text.trim();
    if (t.equals("0")) {
      return Duration.ZERO;
    }
    Matcher m = DURATION.matcher(t);
    if (!m.matches()) {
      throw new IllegalArgumentException(DURATION_FORM);
    }
    long n = Long.parseLong(m.group(1));
    Duration duration =
        switch (m.group(2)) {
          case "ms" -> Duration.ofMillis(n);
          case "s" -> Duration.ofSeconds(n);
          case "m" -> Duration.ofMinutes(n);
          case "h" -> Duration.ofHours(n);
          // at most 15 digits: only days could overflow Duration, so they are capped first
          default -> Duration.ofDays(Math.min(n, MAX_DURATION.toDays() + 1));
        };
    if (duration.compareTo(MAX_DURATION) > 0) {
      throw new IllegalArgumentException(DURATION_FORM + ", at most 36500d");
    }
    return duration;
  }

  /** Bytes in {@code 512B}, {@code 256KB}, {@code 1MB}, {@code 1GB} (1KB = 1024B), or {@code 0}. */
  public static long sizeBytes(String text) {
    String t = text.trim();
    if (t.equals("0")) {
      return 0;
    }
    Matcher m = SIZE.matcher(t.toUpperCase(Locale.ROOT));
    if (!m.matches()) {
      throw new IllegalArgumentException(SIZE_FORM);
    }
    int shift =
        switch (m.group(2)) {
          case "B" -> 0;
          case "KB" -> 10;
          case "MB" -> 20;
          default -> 30;
        };
    long n = Long.parseLong(m.group(1));
    if (n > (Long.MAX_VALUE >> shift)) {
      throw new IllegalArgumentException(SIZE_FORM + " (this one is too large)");
    }
    return n << shift;
  }

  /** {@code 50/minute}, {@code 1/second}, {@code 10/hour}, or with units s, m, h. */
  public static RateLimit rateLimit(String text) {
    Matcher m = RATE.matcher(text.trim());
    if (!m.matches()) {
      throw new IllegalArgumentException(RATE_FORM);
    }
    long count = Long.parseLong(m.group(1));
    if (count < 1) {
      throw new IllegalArgumentException(RATE_FORM + " (the count must be at least 1)");
    }
    Duration per =
        switch (m.group(2)) {
          case "second", "s" -> Duration.ofSeconds(1);
          case "minute", "m" -> Duration.ofMinutes(1);
          default -> Duration.ofHours(1);
        };
    return new RateLimit(count, per);
  }

  /** A whole number from {@code min} to {@code max}. */
  public static long wholeNumber(String text, long min, long max) {
    String form = "expected a whole number from " + min + " to " + max;
    try {
      long n = Long.parseLong(text.trim());
      if (n >= min && n <= max) {
        return n;
      }
    } catch (NumberFormatException e) {
      // falls through to the message saying what is expected
    }
    throw new IllegalArgumentException(form);
  }

  /** {@code true} or {@code false}, nothing else (not YAML 1.1's yes/no/on/off). */
  public static boolean bool(String text) {
    return switch (text.trim()) {
      case "true" -> true;
      case "false" -> false;
      default -> throw new IllegalArgumentException("expected true or false");
    };
  }

  /**
   * Checks an IPv4 or IPv6 address or CIDR ({@code 10.0.0.0/8}, {@code ::/0}). Never resolves a
   * host name: only literal addresses are accepted.
   */
  public static void checkCidr(String text) {
    String t = text.trim();
    int slash = t.indexOf('/');
    String address = slash < 0 ? t : t.substring(0, slash);
    int maxPrefix;
    if (IPV4.matcher(address).matches()) {
      maxPrefix = 32;
    } else if (address.contains(":") && isIpv6Literal(address)) {
      maxPrefix = 128;
    } else {
      throw new IllegalArgumentException(CIDR_FORM);
    }
    if (slash >= 0) {
      String prefix = t.substring(slash + 1);
      if (!prefix.matches("\\d{1,3}") || Integer.parseInt(prefix) > maxPrefix) {
        throw new IllegalArgumentException(
            CIDR_FORM + " (the prefix must be 0 to " + maxPrefix + ")");
      }
    }
  }

  private static boolean isIpv6Literal(String address) {
    if (!IPV6_CHARS.matcher(address).matches()) {
      return false;
    }
    try {
      // Brackets make InetAddress parse a literal and refuse, rather than look up, anything else.
      InetAddress.getByName("[" + address + "]");
      return true;
    } catch (UnknownHostException e) {
      return false;
    }
  }

  /** Checks an absolute http(s) URL with a host. */
  public static void checkHttpUrl(String text) {
    try {
      URI uri = new URI(text.trim());
      String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
      if (!(scheme.equals("http") || scheme.equals("https")) || uri.getHost() == null) {
        throw new IllegalArgumentException(URL_FORM);
      }
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException(URL_FORM);
    }
  }
}
