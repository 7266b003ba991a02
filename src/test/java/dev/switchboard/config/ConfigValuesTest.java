package dev.switchboard.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ConfigValuesTest {

  @ParameterizedTest
  @CsvSource({"500ms, PT0.5S", "10s, PT10S", "15m, PT15M", "48h, PT48H", "3d, PT72H", "0, PT0S"})
  void durationsAreANumberAndAUnit(String text, Duration expected) {
    assertThat(ConfigValues.duration(text)).isEqualTo(expected);
  }

  @ParameterizedTest
  @ValueSource(strings = {"5 minutes", "10", "1.5s", "-1s", "s", "10S", "99999999999999d"})
  void otherDurationsAreRefusedWithTheExpectedForm(String text) {
    assertThatThrownBy(() -> ConfigValues.duration(text))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("expected a number and a unit (ms, s, m, h, d), e.g. 30s");
  }

  @ParameterizedTest
  @CsvSource({"512B, 512", "256KB, 262144", "1MB, 1048576", "1GB, 1073741824", "0, 0"})
  void sizesAreBinary(String text, long expected) {
    assertThat(ConfigValues.sizeBytes(text)).isEqualTo(expected);
  }

  @ParameterizedTest
  @ValueSource(strings = {"1 megabyte", "1024", "1TB", "1.5MB"})
  void otherSizesAreRefused(String text) {
    assertThatThrownBy(() -> ConfigValues.sizeBytes(text)).hasMessageContaining("e.g. 1MB");
  }

  @ParameterizedTest
  @CsvSource({"50/minute, 50, PT1M", "1/second, 1, PT1S", "10/hour, 10, PT1H", "30/s, 30, PT1S"})
  void rateLimitsAreACountPerUnit(String text, long count, Duration per) {
    assertThat(ConfigValues.rateLimit(text)).isEqualTo(new RateLimit(count, per));
  }

  @ParameterizedTest
  @ValueSource(strings = {"50 per minute", "0/second", "5/day", "/minute"})
  void otherRateLimitsAreRefused(String text) {
    assertThatThrownBy(() -> ConfigValues.rateLimit(text)).hasMessageContaining("e.g. 50/minute");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "0.0.0.0/0",
        "10.0.0.0/8",
        "192.0.2.7",
        "::/0",
        "2001:db8::/32",
        "::1",
        "::ffff:10.0.0.1"
      })
  void ipv4AndIpv6AddressesAndCidrsAreAccepted(String text) {
    ConfigValues.checkCidr(text);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "10.0.0.300/8",
        "10.0.0/8",
        "10.0.0.0/33",
        "2001:db8::/129",
        "example.com",
        "fe80::zz",
        "10.0.0.0/",
        "fe80::1%eth0"
      })
  void otherAddressesAreRefusedWithoutLookingAnythingUp(String text) {
    assertThatThrownBy(() -> ConfigValues.checkCidr(text))
        .hasMessageStartingWith("expected an IPv4 or IPv6 address");
  }

  @ParameterizedTest
  @ValueSource(strings = {"crm.example.com/hooks", "ftp://example.com", "https://", "not a url"})
  void urlsMustBeHttpWithAHost(String text) {
    assertThatThrownBy(() -> ConfigValues.checkHttpUrl(text))
        .hasMessage("expected an http:// or https:// URL with a host");
  }

  @ParameterizedTest
  @CsvSource({"retries, retry", "timout, timeout", "hmac-sha256, hmac-sha256-hex", "Retry, retry"})
  void didYouMeanFindsCloseNamesAndPrefixes(String given, String expected) {
    List<String> known = List.of("retry", "timeout", "hmac-sha256-hex", "hmac-sha256-base64");
    assertThat(DidYouMean.suggest(given, known)).contains(expected);
  }

  @ParameterizedTest
  @ValueSource(strings = {"url", "max_body", "partition"})
  void didYouMeanStaysQuietForUnrelatedNames(String given) {
    assertThat(DidYouMean.suggest(given, List.of("retry", "timeout", "concurrency"))).isEmpty();
  }
}
