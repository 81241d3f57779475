package io.tidemark.testkit;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.Tag;

/**
 * Marks a test class (or method) that starts real PostgreSQL clusters: it carries the JUnit tag
 * {@code pg}, so {@code -Dtidemark.groups=unit} leaves it out and {@code -Dtidemark.groups=pg}
 * runs only such tests. Fast tests without a server use {@code @Tag("unit")}.
 */
@Target({ElementType.TYPE, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Tag("pg")
public @interface PgTest {
}
