package dev.switchboard.cli;

import dev.switchboard.config.VerifyConfig;
import dev.switchboard.ingest.verify.SignatureVerifier;
import dev.switchboard.ingest.verify.SignatureVerifiers;
import dev.switchboard.tls.PemFileException;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code switchboard send}: signs one payload as a source expects and posts it, printing the answer
 * — the guides' "Test Connection".
 */
@Command(
    name = "send",
    description = "Sign one event (a file or a bundled sample) and POST it to a URL.")
final class SendCommand implements Callable<Integer> {

  @Option(
      names = "--url",
      required = true,
      description = "e.g. http://127.0.0.1:8080/hooks/genesys-dispositions")
  URI url;

  @ArgGroup(multiplicity = "1")
  Payload payload;

  static final class Payload {
    @Option(names = "--file", description = "a JSON file to send")
    Path file;

    @Option(
        names = "--sample",
        description =
            "a bundled sample: disposition-updated, call-dispositioned, conversation-completed, pe-action-map-outcome")
    String sample;
  }

  @Option(
      names = "--scheme",
      description = "signature scheme (default: ${DEFAULT-VALUE})",
      defaultValue = "hmac-sha256-hex")
  String scheme;

  @Option(names = "--preset", description = "a Genesys preset instead of --scheme")
  String preset;

  @Option(
      names = "--header",
      description = "signature/credential header (scheme default if absent)")
  String header;

  @Option(names = "--prefix", description = "text before the signature, e.g. sha256=")
  String prefix;

  @Option(names = "--secret", description = "the secret (prefer --secret-env or --secret-file)")
  String secret;

  @Option(names = "--secret-env", description = "environment variable holding the secret")
  String secretEnv;

  @Option(names = "--secret-file", description = "file holding the secret")
  Path secretFile;

  @Option(names = "--content-type", defaultValue = "application/json")
  String contentType;

  @Mixin TlsOptions tls;

  @Override
  public Integer call() throws IOException, InterruptedException {
    byte[] body = readPayload();
    String key = resolveSecret();
    boolean unsigned = "none".equals(scheme) && preset == null;
    if (key == null && !unsigned) {
      System.err.println("send: give the secret with --secret-env, --secret-file or --secret");
      return 2;
    }
    HttpRequest.Builder request =
        HttpRequest.newBuilder(url)
            .timeout(Duration.ofSeconds(30))
            .header("Content-Type", contentType)
            .POST(HttpRequest.BodyPublishers.ofByteArray(body));
    if (!unsigned) {
      SignatureVerifier signer =
          SignatureVerifiers.create(
              new VerifyConfig(
                  preset == null ? scheme : null,
                  preset,
                  header,
                  prefix,
                  List.of(key),
                  VerifyConfig.DEFAULT_TOLERANCE));
      Map<String, String> headers =
          signer.sign(
              body, key, Instant.now(), "msg_" + UUID.randomUUID().toString().replace("-", ""));
      headers.forEach(request::header);
    }
    HttpClient.Builder builder = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10));
    try {
      SSLContext ssl = tls.sslContext();
      if (ssl != null) {
        builder.sslContext(ssl);
      }
    } catch (PemFileException e) {
      System.err.println("send: --ca-cert: " + e.getMessage());
      return 2;
    }
    try (HttpClient client = builder.build()) {
      HttpResponse<String> response =
          client.send(request.build(), HttpResponse.BodyHandlers.ofString());
      System.out.println(response.statusCode());
      System.out.println(response.body());
      return response.statusCode() / 100 == 2 ? 0 : 1;
    } catch (SSLHandshakeException e) {
      System.err.println(
          "send: TLS handshake with "
              + url.getAuthority()
              + " failed: "
              + e.getMessage()
              + " (if its certificate is from a private CA or self-signed, pass --ca-cert FILE)");
      return 3;
    } catch (IOException e) {
      System.err.println(
          "send: no answer from "
              + url.getAuthority()
              + ": "
              + e.getClass().getSimpleName()
              + AdminClient.httpsHint(url));
      return 3;
    }
  }

  private byte[] readPayload() throws IOException {
    if (payload.file != null) {
      return Files.readAllBytes(payload.file);
    }
    String name = payload.sample.endsWith(".json") ? payload.sample : payload.sample + ".json";
    try (InputStream in = SendCommand.class.getResourceAsStream("/samples/" + name)) {
      if (in == null) {
        throw new IllegalArgumentException("no bundled sample named " + payload.sample);
      }
      return in.readAllBytes();
    }
  }

  private String resolveSecret() throws IOException {
    if (secretFile != null) {
      return Files.readString(secretFile).strip();
    }
    if (secretEnv != null) {
      String value = System.getenv(secretEnv);
      if (value == null) {
        throw new IllegalArgumentException("environment variable " + secretEnv + " is not set");
      }
      return value;
    }
    return secret;
  }
}
