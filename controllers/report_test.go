package controllers

import (
	"context"
	"fmt"

	. "github.com/onsi/ginkgo/v2"
	eventsv1 "k8s.io/api/events/v1"
)

// When a spec fails, print the Events of every namespace: the controller's decisions.
var _ = ReportAfterEach(func(r SpecReport) {
	if !r.Failed() || k8sClient == nil {
		return
	}
	var evs eventsv1.EventList
	if err := k8sClient.List(context.Background(), &evs); err != nil {
		fmt.Fprintf(GinkgoWriter, "listing events: %v\n", err)
		return
	}
	for _, e := range evs.Items {
		fmt.Fprintf(GinkgoWriter, "event %s %s %s: %s\n", e.Namespace, e.Regarding.Name, e.Reason, e.Note)
	}
})
