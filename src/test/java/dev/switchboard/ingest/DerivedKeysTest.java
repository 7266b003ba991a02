package dev.switchboard.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class DerivedKeysTest {
  @Test
  void aKeyOfUpTo1024BytesOfUtf8IsFineAndOneByteMoreIsNot() {
    assertThat(DerivedKeys.problem("k".repeat(1024))).isNull();
    assertThat(DerivedKeys.problem("k".repeat(1025))).isEqualTo("is longer than 1024 bytes");
    assertThat(DerivedKeys.problem("é".repeat(512))).isNull();
    assertThat(DerivedKeys.problem("é".repeat(512) + "k")).contains("1024 bytes");
    // counted as UTF-8 writes them: 3 bytes for "€", 4 for a pair of surrogates
    assertThat(DerivedKeys.problem("€".repeat(341) + "k")).isNull();
    assertThat(DerivedKeys.problem("€".repeat(341) + "kk")).contains("1024 bytes");
    assertThat(DerivedKeys.problem("\uD83D\uDCDE".repeat(256))).isNull();
    assertThat(DerivedKeys.problem("\uD83D\uDCDE".repeat(256) + "k")).contains("1024 bytes");
  }

  @Test
  void controlCharactersAndUnpairedSurrogatesAreRefusedAndPairedOnesKept() {
    assertThat(DerivedKeys.problem("int-1|2026-10-27T14:30:00Z")).isNull();
    assertThat(DerivedKeys.problem("a\u0000b")).isEqualTo("contains a control character (U+0000)");
    assertThat(DerivedKeys.problem("a\nb")).contains("U+000A");
    assertThat(DerivedKeys.problem("a\u007fb")).contains("U+007F");
    assertThat(DerivedKeys.problem("a\u0085b")).contains("U+0085");
    assertThat(DerivedKeys.problem("call-\uD83D\uDCDE")).isNull();
    assertThat(DerivedKeys.problem("a\uD83Db")).contains("unpaired surrogate");
    assertThat(DerivedKeys.problem("a\uDCDE")).contains("unpaired surrogate");
  }
}
