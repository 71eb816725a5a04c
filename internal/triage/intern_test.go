package triage

import (
	"reflect"
	"strings"
	"testing"
	"unsafe"
)

func TestShareStringsKeepsValuesAndSharesRepeats(t *testing.T) {
	mk := func() []WorklistItem {
		var out []WorklistItem
		for _, u := range []string{"100000000001", "100000000002"} {
			// Separate copies, as decoding makes them.
			out = append(out, WorklistItem{UBRN: u, Specialty: Coding{System: strings.Clone("s"), Code: strings.Clone("CARDIOLOGY")},
				Service: Service{ID: strings.Clone("30001"), Name: strings.Clone("Chest pain")}, Priority: PriorityUrgent})
		}
		return out
	}
	got, want := mk(), mk()
	if unsafe.StringData(got[0].Service.Name) == unsafe.StringData(got[1].Service.Name) {
		t.Fatal("the test's items already share their strings")
	}
	ShareStrings(got)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ShareStrings changed values: %+v, want %+v", got, want)
	}
	if unsafe.StringData(got[0].Service.Name) != unsafe.StringData(got[1].Service.Name) ||
		unsafe.StringData(got[0].Specialty.Code) != unsafe.StringData(got[1].Specialty.Code) {
		t.Error("repeated strings were not shared")
	}
}
