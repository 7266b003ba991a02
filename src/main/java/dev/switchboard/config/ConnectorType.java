package dev.switchboard.config;

import java.time.Duration;
import java.util.List;
import java.util.function.Function;

/**
 * One connector type as the configuration sees it: its {@code type} name, its own keys, and how
 * they are checked and typed. Each connector implements it once, beside its code (its descriptor in
 * {@code destination/<type>/}); the list of every type is handed to the loader through {@link
 * ConnectorCatalog}.
 *
 * <p>Lifecycle: {@link #read} is called once per destination of this type while a file is loaded
 * ({@code validate}, {@code serve}, a reload), on the loading thread. It never throws for a bad
 * value: it reports each problem on the reader (with its line and key) and reads on, so the user
 * sees every problem at once. Messages never repeat a URL or a credential, since URLs such as Power
 * Automate's carry a signature.
 *
 * @param <S> the typed settings
 */
public interface ConnectorType<S extends ConnectorSettings> {

  /** The name written after {@code type:}. */
  String name();

  /** The connector's own keys, beyond the ones every destination has. */
  List<String> keys();

  /**
   * Checks the connector's keys and types them, filling in their defaults.
   *
   * @return what makes the settings from the keys every destination has, or null when a problem was
   *     reported (the file is then refused)
   */
  Function<Common, S> read(SettingsReader node);

  /**
   * The keys every destination has, as the connector's settings may need them, read after the
   * connector's own.
   *
   * @param timeout the destination's {@code timeout} (default 30s)
   * @param concurrency the destination's {@code concurrency} (default 16)
   * @param connectTimeout the {@code connect_timeout} written, or null for the connector's default
   */
  record Common(Duration timeout, int concurrency, Duration connectTimeout) {}
}
