package dev.switchboard;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
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
}
