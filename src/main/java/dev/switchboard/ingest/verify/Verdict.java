package dev.switchboard.ingest.verify;

/** The outcome of checking one request's signature or credentials. */
public sealed interface Verdict {

  /** The shared accepting verdict. */
  Verdict OK = new Ok();

  String SIGNATURE_MISSING = "signature_missing";
  String SIGNATURE_INVALID = "signature_invalid";
  String TIMESTAMP_OUT_OF_TOLERANCE = "timestamp_out_of_tolerance";
  String CREDENTIALS_MISSING = "credentials_missing";
  String CREDENTIALS_INVALID = "credentials_invalid";

  /** The request is authentic. */
  record Ok() implements Verdict {}

  /**
   * The request is refused.
   *
   * @param code one of the machine codes declared on {@link Verdict}
   * @param message human text for the sender; it never contains a secret, the received signature or
   *     the body, because it is echoed in the 401 answer
   */
  record Rejected(String code, String message) implements Verdict {}
}
