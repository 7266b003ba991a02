package dev.switchboard.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.tls.PemFileException;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

/**
 * An operator command that talks to a running gateway's admin API. Exit codes: 0 done, 1 the
 * gateway refused (its problem is printed), 2 bad usage, 3 gateway unreachable, 4 no token or a
 * wrong one.
 */
abstract class AdminCommand implements Callable<Integer> {
  @Mixin AdminOptions admin;

  @Mixin TlsOptions tls;

  @Spec CommandSpec spec;

  @Override
  public final Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    SSLContext ssl;
    try {
      ssl = tls.sslContext();
    } catch (PemFileException e) {
      err.println(spec.qualifiedName() + ": --ca-cert: " + e.getMessage());
      err.flush();
      return 2;
    }
    try (AdminClient client = admin.client(ssl)) {
      run(client, out);
      out.flush();
      return 0;
    } catch (AdminClient.Failure e) {
      err.println(spec.qualifiedName() + ": " + e.getMessage());
      err.flush();
      return e.exitCode;
    }
  }

  abstract void run(AdminClient client, PrintWriter out) throws AdminClient.Failure;

  boolean json() {
    return admin.json;
  }

  static void printJson(PrintWriter out, JsonNode node) {
    try {
      out.println(AdminClient.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(node));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** An instant as a terminal shows it: UTC to the second. */
  static String time(JsonNode node) {
    if (node == null || node.isNull() || node.isMissingNode()) {
      return null;
    }
    try {
      return Instant.parse(node.asText())
          .truncatedTo(ChronoUnit.SECONDS)
          .toString()
          .replace('T', ' ');
    } catch (DateTimeParseException e) {
      return node.asText();
    }
  }

  /** "--cursor …" hint after a page that has more. */
  static void nextPageHint(PrintWriter out, JsonNode page) {
    JsonNode next = page.path("nextCursor");
    if (!next.isNull() && !next.isMissingNode()) {
      out.println("more: add --cursor " + next.asText());
    }
  }

  /** A path segment as typed, encoded so it stays one segment. */
  static String segment(String text) {
    return java.net.URLEncoder.encode(text, java.nio.charset.StandardCharsets.UTF_8)
        .replace("+", "%20");
  }

  static String iso(Instant instant) {
    return instant == null ? null : instant.toString();
  }

  /**
   * A time: ISO-8601 ({@code 2026-10-27T14:30:00Z}) or an age ({@code 90s}, {@code 15m}, {@code
   * 2h}, {@code 3d} ago).
   */
  static final class When implements ITypeConverter<Instant> {
    private static final Pattern AGO = Pattern.compile("([0-9]{1,6})([smhd])");

    @Override
    public Instant convert(String value) {
      Matcher m = AGO.matcher(value.strip());
      if (m.matches()) {
        long n = Long.parseLong(m.group(1));
        Duration ago =
            switch (m.group(2)) {
              case "s" -> Duration.ofSeconds(n);
              case "m" -> Duration.ofMinutes(n);
              case "h" -> Duration.ofHours(n);
              default -> Duration.ofDays(n);
            };
        return Instant.now().minus(ago);
      }
      try {
        return Instant.parse(value.strip());
      } catch (DateTimeParseException e) {
        throw new TypeConversionException(
            "expected an ISO-8601 instant such as 2026-10-27T14:30:00Z, or an age such as 15m, 2h or 3d");
      }
    }
  }
}
