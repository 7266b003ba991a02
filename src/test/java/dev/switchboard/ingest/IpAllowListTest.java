package dev.switchboard.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class IpAllowListTest {
  @Test
  void cidrsMatchTheirRangeOnlyForBothFamilies() {
    IpAllowList list =
        new IpAllowList(List.of("10.0.0.0/8", "192.168.1.7", "2001:db8::/32"), List.of());
    assertThat(list.allows("10.255.0.1")).isTrue();
    assertThat(list.allows("11.0.0.1")).isFalse();
    assertThat(list.allows("192.168.1.7")).isTrue();
    assertThat(list.allows("192.168.1.8")).isFalse();
    assertThat(list.allows("2001:db8:1::5")).isTrue();
    assertThat(list.allows("2001:db9::1")).isFalse();
    assertThat(list.allows("::ffff:10.1.1.1")).isTrue();
    assertThat(list.allows("not-an-ip")).isFalse();
    assertThat(list.allows("10.1.2.3.nip.io")).as("names are never resolved").isFalse();
  }

  @Test
  void emptyListAllowsEveryone() {
    assertThat(new IpAllowList(List.of(), List.of()).allows("203.0.113.9")).isTrue();
  }

  @Test
  void forwardedForIsBelievedOnlyFromATrustedProxy() {
    IpAllowList list =
        new IpAllowList(List.of("10.0.0.0/8"), List.of("127.0.0.1/32", "172.16.0.0/12"));
    assertThat(list.clientAddress("127.0.0.1", "10.1.2.3")).isEqualTo("10.1.2.3");
    assertThat(list.clientAddress("203.0.113.5", "10.1.2.3")).isEqualTo("203.0.113.5");
    // the right-most hop that is not a trusted proxy is the client; spoofed left entries are
    // ignored
    assertThat(list.clientAddress("127.0.0.1", "10.9.9.9, 198.51.100.4, 172.16.0.2"))
        .isEqualTo("198.51.100.4");
  }
}
