package dev.switchboard;

import static com.tngtech.archunit.core.domain.JavaCall.Predicates.target;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.assignableTo;
import static com.tngtech.archunit.core.domain.properties.HasOwner.Predicates.With.owner;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.fields;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import dev.switchboard.config.ConnectorSettings;
import dev.switchboard.config.EnricherSettings;
import dev.switchboard.destination.ConnectorDescriptor;
import dev.switchboard.destination.ConnectorTypes;
import dev.switchboard.destination.Destination;
import dev.switchboard.destination.Enricher;
import dev.switchboard.destination.EnricherDescriptor;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The package map of docs/architecture.md, enforced. */
class ArchitectureTest {
  private static JavaClasses classes;

  @BeforeAll
  static void importClasses() {
    classes =
        new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("dev.switchboard");
  }

  @Test
  void domainHasNoDependenciesOnOtherPackages() {
    classes()
        .that()
        .resideInAPackage("dev.switchboard.domain..")
        .should()
        .onlyDependOnClassesThat()
        .resideInAnyPackage("dev.switchboard.domain..", "java..")
        .check(classes);
  }

  @Test
  void storeIsTheOnlyLinkBetweenIngestAndDispatch() {
    noClasses()
        .that()
        .resideInAPackage("dev.switchboard.ingest..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage("dev.switchboard.dispatch..", "dev.switchboard.destination..")
        .check(classes);
    noClasses()
        .that()
        .resideInAnyPackage("dev.switchboard.dispatch..", "dev.switchboard.destination..")
        .should()
        .dependOnClassesThat()
        .resideInAPackage("dev.switchboard.ingest..")
        .allowEmptyShould(true)
        .check(classes);
  }

  @Test
  void storeDependsOnNoPipelineStageAbove() {
    noClasses()
        .that()
        .resideInAPackage("dev.switchboard.store..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage(
            "dev.switchboard.ingest..",
            "dev.switchboard.dispatch..",
            "dev.switchboard.destination..",
            "dev.switchboard.app..",
            "dev.switchboard.cli..",
            "io.javalin..")
        .check(classes);
  }

  @Test
  void storeDependsOnNoObservability() {
    noClasses()
        .that()
        .resideInAPackage("dev.switchboard.store..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage("dev.switchboard.observability..", "io.micrometer..")
        .check(classes);
  }

  /**
   * The tracing glue is in observability (docs/telemetry.md): only it builds the OpenTelemetry SDK
   * and its exporter; ingest and dispatch hold spans through the API; connectors see the trace
   * context only as a plain header in their delivery.
   */
  @Test
  void onlyObservabilityBuildsTracingAndConnectorsNeverSeeIt() {
    noClasses()
        .that()
        .resideOutsideOfPackage("dev.switchboard.observability..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage(
            "io.opentelemetry.sdk..", "io.opentelemetry.exporter..", "io.opentelemetry.context..")
        .check(classes);
    noClasses()
        .that()
        .resideInAnyPackage(
            "dev.switchboard.destination..", "dev.switchboard.store..", "dev.switchboard.config..")
        .should()
        .dependOnClassesThat()
        .resideInAPackage("io.opentelemetry..")
        .check(classes);
    noClasses()
        .that()
        .resideInAPackage("dev.switchboard.observability..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage(
            "dev.switchboard.ingest..",
            "dev.switchboard.dispatch..",
            "dev.switchboard.destination..",
            "dev.switchboard.store..")
        .check(classes);
  }

  @Test
  void loggingDependsOnNoOtherSwitchboardPackage() {
    noClasses()
        .that()
        .resideInAPackage("dev.switchboard.logging..")
        .should()
        .dependOnClassesThat(
            JavaClass.Predicates.resideInAPackage("dev.switchboard..")
                .and(
                    DescribedPredicate.not(
                        JavaClass.Predicates.resideInAPackage("dev.switchboard.logging.."))))
        .check(classes);
  }

  @Test
  void destinationsNeverImportTheStore() {
    noClasses()
        .that()
        .resideInAPackage("dev.switchboard.destination..")
        .should()
        .dependOnClassesThat()
        .resideInAPackage("dev.switchboard.store..")
        .allowEmptyShould(true)
        .check(classes);
  }

  @Test
  void configurationDependsOnlyOnDomainAndExpressions() {
    noClasses()
        .that()
        .resideInAPackage("dev.switchboard.config..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage(
            "dev.switchboard.ingest..",
            "dev.switchboard.store..",
            "dev.switchboard.dispatch..",
            "dev.switchboard.destination..",
            "dev.switchboard.app..",
            "dev.switchboard.cli..")
        .check(classes);
  }

  @Test
  void aRoutesPlanDependsOnlyOnConfigurationExpressionsAndTheDomain() {
    classes()
        .that()
        .resideInAPackage("dev.switchboard.route..")
        .should()
        .onlyDependOnClassesThat()
        .resideInAnyPackage(
            "dev.switchboard.route..",
            "dev.switchboard.config..",
            "dev.switchboard.expr..",
            "dev.switchboard.domain..",
            "com.fasterxml.jackson..",
            "java..")
        .check(classes);
  }

  @Test
  void onlyTheCompositionRootAndCliWireTheApplication() {
    noClasses()
        .that()
        .resideOutsideOfPackages("dev.switchboard.app..", "dev.switchboard.cli..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage("dev.switchboard.app..", "dev.switchboard.cli..")
        .check(classes);
  }

  @Test
  void theEmulatorOnlyReadsConfigurationAndSigns() {
    noClasses()
        .that()
        .resideInAPackage("dev.switchboard.emulator..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage(
            "dev.switchboard.store..",
            "dev.switchboard.dispatch..",
            "dev.switchboard.destination..",
            "dev.switchboard.admin..",
            "dev.switchboard.ingest",
            "io.javalin..")
        .check(classes);
  }

  @Test
  void tlsDependsOnNoOtherSwitchboardPackage() {
    noClasses()
        .that()
        .resideInAPackage("dev.switchboard.tls..")
        .should()
        .dependOnClassesThat(
            JavaClass.Predicates.resideInAPackage("dev.switchboard..")
                .and(
                    DescribedPredicate.not(
                        JavaClass.Predicates.resideInAPackage("dev.switchboard.tls.."))))
        .check(classes);
  }

  @Test
  void onlyTheLaneClassesHoldLaneState() {
    // every change to a destination's admission goes through a lane's own methods
    fields()
        .that()
        .areDeclaredInClassesThat()
        .haveSimpleNameStartingWith("DestinationLane")
        .or()
        .areDeclaredInClassesThat()
        .haveSimpleName("LaneMemory")
        .should()
        .bePrivate()
        .orShould()
        .beStatic()
        .check(classes);
  }

  @Test
  void anAttemptNeverTouchesTheStoreOrTheLoop() {
    noClasses()
        .that()
        .haveFullyQualifiedName("dev.switchboard.dispatch.Attempt")
        .or()
        .haveFullyQualifiedName("dev.switchboard.dispatch.Verdicts")
        .should()
        .dependOnClassesThat()
        .haveFullyQualifiedName("dev.switchboard.store.DeliveryQueue")
        .orShould()
        .dependOnClassesThat()
        .haveFullyQualifiedName("dev.switchboard.dispatch.Dispatcher")
        .orShould()
        .dependOnClassesThat()
        .implement("dev.switchboard.dispatch.Intake")
        .check(classes);
  }

  @Test
  void theIntakesKnowNothingOfEachOtherNorOfTheDispatcher() {
    noClasses()
        .that()
        .implement("dev.switchboard.dispatch.Intake")
        .should()
        .dependOnClassesThat()
        .haveFullyQualifiedName("dev.switchboard.dispatch.Dispatcher")
        .check(classes);
    noClasses()
        .that()
        .haveSimpleName("LocalIntake")
        .should()
        .dependOnClassesThat()
        .haveSimpleName("StoreClaims")
        .check(classes);
    noClasses()
        .that()
        .haveSimpleName("StoreClaims")
        .should()
        .dependOnClassesThat()
        .haveSimpleName("LocalIntake")
        .check(classes);
  }

  @Test
  void dispatchUsesTheStoresPortsNeverItsSql() {
    noClasses()
        .that()
        .resideInAnyPackage(
            "dev.switchboard.dispatch..",
            "dev.switchboard.ingest..",
            "dev.switchboard.admin..",
            "dev.switchboard.route..")
        .should()
        .dependOnClassesThat()
        .resideInAPackage("dev.switchboard.store.sql..")
        .check(classes);
  }

  @Test
  void adminSeesTheDeliveryCoreOnlyThroughTheOperatorService() {
    classes()
        .that()
        .resideInAPackage("dev.switchboard.dispatch..")
        .and()
        .areNotPublic()
        .should()
        .onlyBeAccessed()
        .byAnyPackage("dev.switchboard.dispatch..")
        .check(classes);
    noClasses()
        .that()
        .resideInAPackage("dev.switchboard.admin..")
        .should()
        .dependOnClassesThat()
        .haveFullyQualifiedName("dev.switchboard.dispatch.Dispatcher")
        .check(classes);
  }

  /** One connector is one descriptor: nothing else builds a connector or knows its class. */
  @Test
  void connectorsAreBuiltOnlyThroughTheirDescriptors() {
    noClasses()
        .that()
        .resideOutsideOfPackage("dev.switchboard.destination..")
        .should()
        .callConstructorWhere(
            target(owner(assignableTo(Destination.class).or(assignableTo(Enricher.class)))))
        .check(classes);
  }

  @Test
  void everyConnectorAndEnricherDescriptorIsInTheOneList() {
    Set<String> descriptors =
        classes.stream()
            .filter(c -> c.isAssignableTo(ConnectorDescriptor.class) && !c.isInterface())
            .map(JavaClass::getName)
            .collect(Collectors.toSet());
    Set<String> listed =
        ConnectorTypes.ALL.stream().map(d -> d.getClass().getName()).collect(Collectors.toSet());
    assertThat(listed).hasSameSizeAs(ConnectorTypes.ALL).isEqualTo(descriptors);
    Set<String> enrichers =
        classes.stream()
            .filter(c -> c.isAssignableTo(EnricherDescriptor.class) && !c.isInterface())
            .map(JavaClass::getName)
            .collect(Collectors.toSet());
    assertThat(ConnectorTypes.ENRICHERS.stream().map(d -> d.getClass().getName()).toList())
        .hasSameSizeAs(enrichers)
        .containsExactlyInAnyOrderElementsOf(enrichers);
  }

  @Test
  void connectorSettingsLiveBesideTheirConnectors() {
    classes()
        .that()
        .implement(ConnectorSettings.class)
        .or()
        .implement(EnricherSettings.class)
        .should()
        .resideInAPackage("dev.switchboard.destination..")
        .check(classes);
  }
}
