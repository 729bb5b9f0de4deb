package io.github.muon4j.experiment;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

class BudgetTest {

    @Test
    void tokensAndMinutes() {
        assertEquals(2e6, Budget.parse("2M").tokens());
        assertEquals(5e5, Budget.parse("500k").tokens());
        assertEquals(1200.0, Budget.parse("1200").tokens());
        assertEquals(20.0, Budget.parse("20m").minutes());
        assertEquals(90.0, Budget.parse("1.5h").minutes());
        assertTrue(Budget.parse("20min").isTime());
        assertFalse(Budget.parse("2M").isTime());
        assertThrows(IllegalArgumentException.class, () -> Budget.parse("lots"));
        assertThrows(IllegalArgumentException.class, () -> Budget.parse("-3m"));
    }
}
