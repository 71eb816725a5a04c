package vetting

import (
	"context"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"

	"github.com/triagedesk/triagedesk/internal/triage"
	"github.com/triagedesk/triagedesk/ui/bridge"
	"github.com/triagedesk/triagedesk/ui/patientbanner"
)

// startBanner reads the patient banner, once. It is started when the
// CRI's page 1 is drawn, or could not be: the banner's identity
// cross-check reads the whole letter, and its related referrals' letters,
// with the same PDF engine, and reading them first kept page 1 waiting.
// Until then the banner says the patient's details are being checked.
func (p *referralPanel) startBanner() {
	if !p.bannerStarted {
		p.bannerStarted = true
		p.loadBanner()
	}
}

// loadBanner reads the patient banner (PDS's details as cached, with the
// identity cross-check of the letter) off the UI goroutine and shows it in
// the header card. It is read apart from the referral so the header and the
// letter never wait for it; until it arrives the banner says it is being
// checked, never a blank space.
func (p *referralPanel) loadBanner() {
	a := p.v.app
	bridge.Run(p.v.b, p.ctx, func(ctx context.Context) (triage.Banner, error) {
		return a.PatientBanner(ctx, p.ubrn)
	}, func(b triage.Banner, err error) {
		if err != nil {
			b = triage.Banner{State: triage.BannerUnavailable, Name: triage.NotKnown, Born: triage.NotKnown, Gender: triage.NotKnown,
				NHSNumber: triage.NotKnown, Notice: "Patient details could not be read on this computer: " + triage.ErrorMessage(err) + " Check the patient's identity in the letter."}
			if p.loaded {
				b.NHSNumber = triage.FormatNHSNumber(p.referral().NHSNumber)
			}
		}
		p.banner = &b
		if p.bannerBox != nil {
			p.bannerBox.Objects = []fyne.CanvasObject{p.bannerObject(patientbanner.New)}
			p.bannerBox.Refresh()
		}
	})
}

// bannerObject draws the banner with draw, or says it is being checked.
func (p *referralPanel) bannerObject(draw func(triage.Banner) fyne.CanvasObject) fyne.CanvasObject {
	if p.banner == nil {
		// Until PDS's details are read, the referral's NHS number stands
		// alone, labelled as what it is.
		nhs := triage.NotKnown
		if p.loaded {
			nhs = triage.FormatNHSNumber(p.referral().NHSNumber)
		}
		return widget.NewLabel("Checking the patient's details…   NHS No. " + nhs)
	}
	return draw(*p.banner)
}
