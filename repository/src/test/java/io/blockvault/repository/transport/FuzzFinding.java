package io.blockvault.repository.transport;

/** Something an oracle saw that must not happen; seed and case number replay it. */
record FuzzFinding(long seed, int caseNumber, String oracle, String detail, String caseDescription) {

    @Override
    public String toString() {
        return "FINDING seed=" + seed + " case=" + caseNumber + " oracle=" + oracle + ": " + detail + " [case: "
                + caseDescription + "]";
    }
}
