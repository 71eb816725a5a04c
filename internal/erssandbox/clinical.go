package erssandbox

import (
	"fmt"
	"time"

	"github.com/triagedesk/triagedesk/internal/triage"
)

// letter is the synthetic clinical content of a referral, shown in its
// Clinical Information Summary. Every name in it is fictional and marked as
// synthetic.
type letter struct {
	PatientName    string
	BirthDate      time.Time
	Sex            string
	GPName         string
	Practice       string
	Reason         string
	History        []string
	PastHistory    []string
	Medication     []string
	Allergies      []string
	Examination    string
	Investigations []string
	Social         string
	Question       string
}

// presentation is one reason for referral in a specialty.
type presentation struct {
	reason         string
	history        []string
	examination    string
	investigations []string
	question       string
}

var presentations = map[string][]presentation{
	"CARDIOLOGY": {
		{"Exertional chest tightness over the last %d weeks.",
			[]string{"Describes a central chest tightness brought on by walking uphill or climbing two flights of stairs, easing within five minutes of rest. No pain at rest and no nocturnal symptoms.", "Has noticed mild breathlessness on exertion. Denies palpitations, syncope or ankle swelling. Symptoms are gradually becoming more frequent."},
			"BP 148/86, pulse 78 regular, heart sounds normal with no added sounds, chest clear, no peripheral oedema.",
			[]string{"ECG: sinus rhythm, no acute ST changes", "Total cholesterol 6.4 mmol/L, HDL 1.1 mmol/L", "HbA1c 44 mmol/mol", "eGFR 78 mL/min/1.73m2"},
			"Please assess for stable angina and advise on further investigation."},
		{"Palpitations with two episodes of light-headedness in the last %d weeks.",
			[]string{"Intermittent episodes of a fast, irregular heartbeat lasting up to an hour, usually in the evening. Two episodes were associated with feeling light-headed but there was no loss of consciousness.", "No chest pain. Caffeine intake has been reduced without improvement."},
			"Pulse 82 irregularly irregular at the time of review, BP 132/80, heart sounds normal, chest clear.",
			[]string{"ECG: atrial fibrillation, ventricular rate 96", "TSH 1.9 mU/L", "Full blood count normal"},
			"Please advise on rhythm management and anticoagulation."},
		{"Progressive breathlessness and ankle swelling for %d weeks.",
			[]string{"Breathlessness now on walking 50 metres on the flat, needs three pillows at night. Bilateral ankle swelling worse by the evening.", "Weight has increased by 4 kg over the last month."},
			"JVP raised, bibasal crepitations, pitting oedema to mid-shin bilaterally.",
			[]string{"NT-proBNP 2150 ng/L", "ECG: sinus rhythm, left bundle branch block", "Creatinine 112 micromol/L"},
			"Suspected heart failure: please arrange echocardiography and review."},
	},
	"DERMATOLOGY": {
		{"Changing pigmented lesion on the back noticed %d weeks ago.",
			[]string{"Partner noticed a mole on the upper back that has enlarged and darkened. It occasionally itches; no bleeding.", "No personal history of skin cancer; a sibling had a melanoma removed."},
			"8 mm asymmetrical lesion with irregular border and two shades of brown on the left upper back. No palpable lymph nodes.",
			[]string{"Dermoscopy image attached"},
			"Suspected melanoma: please see under the two-week-wait pathway."},
		{"Widespread itchy rash not settling after %d weeks of treatment.",
			[]string{"Itchy, scaly plaques on the elbows, knees and scalp, worsening over several months. Sleep is disturbed by the itch.", "Tried emollients and a potent topical steroid with partial response only."},
			"Well-demarcated erythematous plaques with silvery scale on extensor surfaces, about 12% body surface area. Nail pitting present.",
			[]string{"Full blood count and liver function normal"},
			"Please consider systemic treatment."},
	},
	"GASTROENTEROLOGY": {
		{"Change in bowel habit towards looser stools for %d weeks.",
			[]string{"Loose stools three to four times a day, with occasional dark red blood mixed in. Some lower abdominal discomfort.", "Has lost about 3 kg unintentionally. No recent travel or antibiotics."},
			"Abdomen soft with mild left iliac fossa tenderness, no masses. Rectal examination: no palpable mass.",
			[]string{"FIT 145 micrograms Hb/g faeces", "Haemoglobin 112 g/L, ferritin 12 micrograms/L", "CRP 8 mg/L"},
			"Please assess under the suspected lower GI cancer pathway."},
		{"Persistent dyspepsia for %d weeks despite treatment.",
			[]string{"Epigastric burning after meals and at night. Partial response to a proton pump inhibitor; symptoms return when it is stopped.", "No dysphagia, vomiting or weight loss."},
			"Mild epigastric tenderness, no masses, no lymphadenopathy.",
			[]string{"H. pylori stool antigen negative", "Full blood count normal", "Coeliac serology negative"},
			"Please advise whether endoscopy is indicated."},
	},
	"NEUROLOGY": {
		{"New daily headaches for %d weeks.",
			[]string{"Bilateral pressing headaches, present on waking and improving through the day. Uses paracetamol most days.", "No visual disturbance, weakness or numbness. No change in personality reported by family."},
			"Neurological examination normal, fundoscopy: discs clearly seen, no papilloedema. BP 128/78.",
			[]string{"ESR 9 mm/h", "Full blood count normal"},
			"Please advise on management; possible medication overuse headache."},
		{"Tremor of both hands gradually worsening over %d weeks.",
			[]string{"Tremor most noticeable when holding a cup or writing; improves slightly after a small amount of alcohol.", "Father had a similar tremor. No slowness of movement noticed."},
			"Bilateral postural and action tremor of the hands, no rest tremor, tone normal, gait normal.",
			[]string{"TSH 2.1 mU/L", "Calcium and liver function normal"},
			"Please assess; likely essential tremor."},
	},
	"TRAUMA_AND_ORTHOPAEDICS": {
		{"Right knee pain limiting mobility for %d weeks.",
			[]string{"Pain on weight bearing and on stairs, with morning stiffness lasting 20 minutes. Walking distance now about 400 metres.", "Completed a course of physiotherapy and uses regular analgesia with limited benefit."},
			"Small effusion, crepitus and reduced flexion to 100 degrees, medial joint line tenderness. Ligaments stable.",
			[]string{"X-ray: medial joint space narrowing with osteophytes"},
			"Please assess for further management including surgical options."},
		{"Left hip pain and stiffness for %d weeks.",
			[]string{"Groin pain on walking and difficulty putting on socks and shoes. Sleep disturbed by pain.", "Analgesia and physiotherapy have not helped."},
			"Antalgic gait, painful and restricted internal rotation of the left hip.",
			[]string{"X-ray: moderate osteoarthritis of the left hip"},
			"Please consider for hip replacement."},
	},
	"RESPIRATORY_MEDICINE": {
		{"Breathlessness and chronic cough for %d weeks.",
			[]string{"Productive cough most mornings and breathlessness on walking up a slight incline. Two chest infections treated this winter.", "Ex-smoker with a 30 pack-year history, stopped two years ago."},
			"Scattered wheeze, no clubbing, oxygen saturation 95% on air.",
			[]string{"Spirometry: FEV1/FVC 0.62, FEV1 64% predicted", "Chest X-ray: hyperinflation, no mass"},
			"Please confirm the diagnosis and optimise treatment."},
		{"Persistent cough for %d weeks with no clear cause.",
			[]string{"Dry cough throughout the day, worse when talking. No haemoptysis, weight loss or night sweats.", "A trial of an inhaled corticosteroid made no difference."},
			"Chest clear, no lymphadenopathy, oxygen saturation 98% on air.",
			[]string{"Chest X-ray: normal", "Full blood count normal"},
			"Please advise on further investigation."},
	},
	"ENT": {
		{"Hoarse voice for %d weeks.",
			[]string{"Voice has been hoarse most days without improvement. Occasional throat clearing. No difficulty swallowing.", "Current smoker, about 10 cigarettes a day."},
			"No palpable neck masses, oral cavity normal.",
			[]string{"Thyroid function normal"},
			"Persistent hoarseness: please assess."},
		{"Unilateral hearing loss and tinnitus for %d weeks.",
			[]string{"Gradual hearing loss in the left ear with a constant high-pitched tinnitus. No vertigo or ear discharge."},
			"Otoscopy normal bilaterally. Rinne positive bilaterally, Weber lateralises to the right.",
			[]string{"Audiogram attached: asymmetric sensorineural loss"},
			"Please assess for asymmetric hearing loss."},
	},
	"UROLOGY": {
		{"Visible haematuria on %d occasions.",
			[]string{"Painless visible haematuria noticed on several occasions over the last weeks. No urinary symptoms.", "Previously worked in the dye industry."},
			"Abdomen soft, no masses, no renal angle tenderness.",
			[]string{"Urine culture negative", "eGFR 82 mL/min/1.73m2", "Urine dipstick: blood +++"},
			"Please assess under the haematuria pathway."},
	},
	"GYNAECOLOGY": {
		{"Heavy menstrual bleeding for %d weeks.",
			[]string{"Periods have become heavier, with flooding and clots, lasting seven days. Tiredness reported.", "Tranexamic acid tried with limited benefit."},
			"Abdomen soft, non-tender; pelvic examination: bulky uterus.",
			[]string{"Haemoglobin 104 g/L, ferritin 8 micrograms/L", "Ultrasound: fibroid uterus"},
			"Please advise on further management."},
		{"Postmenopausal bleeding on %d occasions.",
			[]string{"Episodes of vaginal spotting two years after the menopause. Not on hormone replacement therapy."},
			"Speculum examination: cervix appears healthy.",
			[]string{"Transvaginal ultrasound requested"},
			"Please see under the suspected cancer pathway."},
	},
	"OPHTHALMOLOGY": {
		{"Gradual blurring of vision in both eyes over %d weeks.",
			[]string{"Difficulty reading and driving at night because of glare. The optometrist reports bilateral cataracts.", "No eye pain or redness."},
			"Visual acuity 6/18 right, 6/24 left with glasses.",
			[]string{"Optometrist report attached"},
			"Please assess for cataract surgery."},
	},
}

var (
	femaleNames  = []string{"Ella", "Amara", "Maya", "Isla", "Ruby", "Zara", "Chloe", "Hana"}
	maleNames    = []string{"Noah", "Oliver", "Theo", "Arjun", "Leo", "Finn", "Kofi", "Owen"}
	familyNames  = []string{"Marsh", "Penrose", "Alder", "Whitcombe", "Fairley", "Oduya", "Brennock", "Calloway", "Dunmore", "Hartwell", "Kestrel", "Lowther"}
	gpNames      = []string{"Dr Jamie Ashdown", "Dr Leila Mirren", "Dr Tom Hadley", "Dr Grace Osei", "Dr Rowan Pike", "Dr Anika Shah"}
	practices    = []string{"Meadowbank Surgery", "Riverside Medical Centre", "Elm Tree Practice", "Harbour View Health Centre", "Northgate Surgery", "Willow Lane Practice"}
	pastHistory  = []string{"Hypertension", "Type 2 diabetes", "Asthma", "Osteoarthritis", "Hypothyroidism", "Depression", "Gastro-oesophageal reflux disease", "Hypercholesterolaemia", "Appendicectomy (childhood)", "Chronic kidney disease stage 3a", "Migraine", "Gout"}
	medications  = []string{"Amlodipine 5 mg once daily", "Atorvastatin 20 mg at night", "Metformin 500 mg twice daily", "Ramipril 5 mg once daily", "Levothyroxine 75 micrograms once daily", "Omeprazole 20 mg once daily", "Salbutamol 100 micrograms inhaler as required", "Sertraline 50 mg once daily", "Paracetamol 1 g up to four times daily", "Aspirin 75 mg once daily", "Bisoprolol 2.5 mg once daily", "Allopurinol 100 mg once daily", "Beclometasone 200 micrograms inhaler twice daily", "Emollient cream as required"}
	allergies    = []string{"Penicillin: rash", "Codeine: vomiting", "Elastoplast: skin irritation", "Ibuprofen: wheeze", "Trimethoprim: rash"}
	socialLines  = []string{"Lives with partner, independent with all activities of daily living.", "Lives alone, retired teacher, drives.", "Works full time in an office, two children at home.", "Lives with family, walks the dog daily.", "Retired, lives in a bungalow with spouse, uses a stick outdoors."}
	addendumText = []string{
		"Symptoms have worsened since the original referral; now affecting sleep.",
		"Further blood results added: haemoglobin 108 g/L.",
		"Patient reports a new episode of symptoms at rest last week.",
		"The patient has asked to be seen at the nearest site if possible.",
	}
)

// letterFor generates the clinical content of a referral. The patient's
// name, date of birth, sex, GP and practice are the registry's patient p's,
// so every referral of one patient (related referrals share an NHS number)
// names the same person, as PDS does. The rest depends only on the seed,
// the referral's generation index and its specialty, so the same seed
// always gives the same letter.
func letterFor(seed uint64, index int, specialty string, pt SyntheticPatient) letter {
	rng := rngFor(seed, index, 2)
	ps := presentations[specialty]
	if len(ps) == 0 {
		ps = presentations["CARDIOLOGY"]
	}
	p := pick(rng, ps)
	sex, given := "Female", femaleNames
	if specialty != "GYNAECOLOGY" && rng.IntN(2) == 0 {
		sex, given = "Male", maleNames
	}
	// These draws are kept (and overridden by the registry's patient) so the
	// rest of each letter is as it always was for its seed.
	_, _, _, _, _, _ = sex, pick(rng, given), pick(rng, familyNames), rng.IntN(70)+rng.IntN(12)+rng.IntN(28), pick(rng, gpNames), pick(rng, practices)
	l := letter{
		PatientName: pt.LetterName(),
		BirthDate:   pt.BirthDate,
		Sex:         pt.Sex(),
		GPName:      pt.GPName,
		Practice:    pt.Practice,
		Reason:      fmt.Sprintf(p.reason, 2+rng.IntN(10)),
		History:     append([]string(nil), p.history...),
		Examination: p.examination,
		Social:      pick(rng, socialLines),
		Question:    p.question,
	}
	l.History = append(l.History, "The patient is aware of the referral and is happy to attend. An interpreter is not required unless stated in the referral.")
	l.Investigations = append(l.Investigations, p.investigations...)
	for _, i := range rng.Perm(len(pastHistory))[:2+rng.IntN(4)] {
		l.PastHistory = append(l.PastHistory, pastHistory[i])
	}
	for _, i := range rng.Perm(len(medications))[:3+rng.IntN(6)] {
		l.Medication = append(l.Medication, medications[i])
	}
	if rng.IntN(3) == 0 {
		l.Allergies = []string{"No known drug allergies"}
	} else {
		for _, i := range rng.Perm(len(allergies))[:1+rng.IntN(2)] {
			l.Allergies = append(l.Allergies, allergies[i])
		}
	}
	return l
}

// addendumFor returns the text of the n-th letter change of a referral when
// the caller gave none.
func addendumFor(seed uint64, index, n int) string {
	rng := rngFor(seed, index, uint64(16+n))
	return pick(rng, addendumText)
}

// priorityLabel is how the CRI writes a priority.
func priorityLabel(p triage.Priority) string {
	switch p {
	case triage.PriorityTwoWeekWait:
		return "Two Week Wait"
	case triage.PriorityUrgent:
		return "Urgent"
	case triage.PriorityRoutine:
		return "Routine"
	}
	return string(p)
}
