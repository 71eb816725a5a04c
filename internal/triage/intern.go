package triage

// ShareStrings makes the worklist items' repeated strings (codes, code
// system URLs, service ids and names, clinician ids) share one copy each,
// in place. A decoded worklist holds its own copy of every such string per
// item; a large worklist kept in memory (the table's rows, the engine's
// last worklist) then needs a fraction of the memory. UBRNs and NHS
// numbers are unique per item and are left alone.
func ShareStrings(items []WorklistItem) {
	seen := map[string]string{}
	s := func(v string) string {
		if v == "" {
			return v
		}
		if c, ok := seen[v]; ok {
			return c
		}
		seen[v] = v
		return v
	}
	c := func(v Coding) Coding { return Coding{System: s(v.System), Code: s(v.Code), Display: s(v.Display)} }
	for i := range items {
		it := &items[i]
		it.List = ListType(s(string(it.List)))
		it.Priority = Priority(s(string(it.Priority)))
		it.Specialty = c(it.Specialty)
		it.Service = Service{ID: s(it.Service.ID), Name: s(it.Service.Name)}
		it.Type = ReferralType(s(string(it.Type)))
		it.ContextStatus = RequestContextStatus(s(string(it.ContextStatus)))
		it.NamedClinician = s(it.NamedClinician)
		it.AllocatedClinician = s(it.AllocatedClinician)
		it.ReviewReason = s(it.ReviewReason)
		it.ClinicalInformationStatus = s(it.ClinicalInformationStatus)
	}
}
