package io.github.muon4j.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** How {@code study --jobs 2} shares the parts between its two processes. */
class StudySplitTest {

    @Test
    void twoJobsKeepEachPartsPrerequisiteInTheSameJobOrEarlierInTheOther() {
        List<Set<String>> two = Study.split(Set.copyOf(Study.PARTS), 2);
        assertEquals(List.of(List.of("sizeS", "stability", "frontier", "arch"), List.of("sizeM", "sizeL")),
                two.stream().map(ArrayList::new).toList());
        // stability and frontier start from size S's rates: S runs first in the same job
        List<String> first = new ArrayList<>(two.get(0));
        assertTrue(first.indexOf("sizeS") < first.indexOf("stability") && first.indexOf("sizeS") < first.indexOf("frontier"));
        assertEquals(List.of(Set.copyOf(Study.PARTS)), Study.split(Set.copyOf(Study.PARTS), 1));
    }

    @Test
    void everySelectionIsSplitIntoDisjointNonEmptyJobsCoveringIt() {
        int n = Study.PARTS.size();
        for (int mask = 1; mask < 1 << n; mask++) {
            Set<String> sel = new HashSet<>();
            for (int i = 0; i < n; i++) {
                if ((mask >> i & 1) == 1) {
                    sel.add(Study.PARTS.get(i));
                }
            }
            List<Set<String>> jobs = Study.split(sel, 2);
            Set<String> union = new HashSet<>();
            int total = 0;
            for (Set<String> j : jobs) {
                assertTrue(!j.isEmpty(), "no empty job for " + sel);
                union.addAll(j);
                total += j.size();
            }
            assertEquals(sel, union, "covers " + sel);
            assertEquals(sel.size(), total, "disjoint for " + sel);
            assertTrue(jobs.size() <= 2);
        }
    }
}
