package dev.switchboard.config;

import java.util.List;
import java.util.ServiceLoader;

/**
 * Every connector and enricher type this build has, in the order messages list them. The one
 * implementation, beside the connectors ({@code destination.Connectors}), is registered in {@code
 * META-INF/services} so that the loader finds it without depending on the connectors' packages.
 */
public interface ConnectorCatalog {

  /**
   * The destination connector types, in the order {@code type is required: one of …} names them.
   */
  List<ConnectorType<?>> destinationTypes();

  /** The enricher types, in the order {@code type is required: one of …} names them. */
  List<EnricherType<?>> enricherTypes();

  /**
   * The catalog on the class path.
   *
   * @throws IllegalStateException when there is none, or more than one (a broken build)
   */
  static ConnectorCatalog installed() {
    List<ConnectorCatalog> found =
        ServiceLoader.load(ConnectorCatalog.class, ConnectorCatalog.class.getClassLoader()).stream()
            .map(ServiceLoader.Provider::get)
            .toList();
    if (found.size() != 1) {
      throw new IllegalStateException(
          "expected one connector catalog on the class path, found " + found.size());
    }
    return found.get(0);
  }
}
