package dev.switchboard.emulator;

import java.util.Locale;

/** The Genesys payload shapes the emulator can generate (the guides' samples and real shapes). */
public enum PayloadKind {
  DISPOSITION,
  CONVERSATION_COMPLETED,
  ACTION_MAP,
  CALL_DISPOSITIONED,
  EVENTBRIDGE_ACW;

  /** The command-line name, e.g. {@code conversation-completed}. */
  public String cliName() {
    return name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  /** Parses a command-line name. */
  public static PayloadKind parse(String text) {
    for (PayloadKind kind : values()) {
      if (kind.cliName().equals(text)) {
        return kind;
      }
    }
    throw new IllegalArgumentException(
        "unknown payload " + text + "; one of " + java.util.Arrays.toString(cliNames()));
  }

  static String[] cliNames() {
    return java.util.Arrays.stream(values()).map(PayloadKind::cliName).toArray(String[]::new);
  }
}
