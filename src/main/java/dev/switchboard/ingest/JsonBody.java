package dev.switchboard.ingest;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * Parses an ingest body the strict way (docs/hardening.md): UTF-8 only (RFC 8259 §8.1; no guessing
 * UTF-16 or UTF-32, no replacement characters), no duplicate member names (a sender and a
 * downstream reader that disagree on which one wins could be told two different things by one
 * signed body), nesting at most {@value #MAX_DEPTH} deep, numbers at most {@value
 * #MAX_NUMBER_CHARS} characters and within a double's range (RFC 8259 §6 lets a parser limit both).
 * Every refusal is an {@link Invalid} whose message never quotes the body.
 */
final class JsonBody {
  static final int MAX_DEPTH = 500;
  static final int MAX_NUMBER_CHARS = 1000;

  /** The mapper for ingest bodies: parsing, schema checks and re-serialising a reshaped body. */
  static final ObjectMapper MAPPER =
      new ObjectMapper(
              JsonFactory.builder()
                  .streamReadConstraints(
                      StreamReadConstraints.builder()
                          .maxNestingDepth(MAX_DEPTH)
                          .maxNumberLength(MAX_NUMBER_CHARS)
                          .build())
                  .enable(com.fasterxml.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                  .build())
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

  /** A body that is not acceptable JSON, with a message fit to send back. */
  static final class Invalid extends Exception {
    Invalid(String message) {
      super(message, null, false, false);
    }
  }

  /**
   * @param text the body as text, a leading byte-order mark removed (what is stored)
   * @param value the parsed body: maps, lists, strings, numbers, booleans and nulls
   */
  record Parsed(String text, Object value) {}

  private JsonBody() {}

  static Parsed parse(byte[] raw) throws Invalid {
    String text;
    try {
      text =
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(ByteBuffer.wrap(raw))
              .toString();
    } catch (CharacterCodingException e) {
      throw new Invalid("the body is not UTF-8 text");
    }
    // RFC 8259 §8.1: a parser may ignore a byte-order mark; Jackson did so before for bytes
    if (text.startsWith("\uFEFF")) {
      text = text.substring(1);
    }
    Object value;
    try {
      value = MAPPER.readValue(text, Object.class);
    } catch (JsonProcessingException e) {
      throw new Invalid("the body is not valid JSON" + where(e));
    } catch (IOException e) {
      throw new Invalid("the body is not valid JSON");
    }
    if (hasNonFiniteNumber(value)) {
      throw new Invalid("the body is not valid JSON: a number is out of range");
    }
    return new Parsed(text, value);
  }

  /** Jackson reads 1e400 as Infinity, which no JSON text can carry on; depth is already bounded. */
  private static boolean hasNonFiniteNumber(Object value) {
    return switch (value) {
      case Double d -> d.isInfinite() || d.isNaN();
      case Map<?, ?> map -> map.values().stream().anyMatch(JsonBody::hasNonFiniteNumber);
      case List<?> list -> list.stream().anyMatch(JsonBody::hasNonFiniteNumber);
      case null, default -> false;
    };
  }

  private static String where(JsonProcessingException e) {
    if (e.getLocation() != null && e.getLocation().getLineNr() > 0) {
      return " (line "
          + e.getLocation().getLineNr()
          + ", column "
          + e.getLocation().getColumnNr()
          + ")";
    }
    return "";
  }
}
