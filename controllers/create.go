package controllers

import (
	"context"
	"errors"
	"fmt"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// maxCreatesPerPass bounds the pods one pass creates; a bigger swarm continues in the next pass.
const maxCreatesPerPass = 500

// createWorkers is how many creations run at once.
const createWorkers = 16

// podToCreate is a pod this pass creates, and whether it replaces a disrupted one.
type podToCreate struct {
	sl      slot
	pod     *corev1.Pod
	replace bool
}

// createChildren creates the tracker's Service, the publish Secret, the NetworkPolicy (or
// deletes it when turned off) and every pod that is missing (the seeders only when seeders is
// true): first creations, and replacements whose backoff has passed. A child's name taken by
// someone else's object fails the swarm before any pod is created.
func (r *SwarmReconciler) createChildren(ctx context.Context, p *pass, obs *observed, seeders bool) error {
	if !obs.serviceExists {
		if err := r.Create(ctx, buildTrackerService(p.swarm)); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("creating the tracker's Service: %w", err)
		}
	}
	if err := r.ensurePublishSecret(ctx, p, obs); err != nil || p.failed() {
		return err
	}
	if err := r.reconcileNetworkPolicy(ctx, p, obs); err != nil || p.failed() {
		return err
	}
	todo := p.podsToCreate(obs, r.Pods, seeders)
	created, err := r.createPods(ctx, todo)
	p.noteCreated(obs, todo, created)
	return err
}

// podsToCreate lists the pods missing from the cache that this pass may create, tracker first,
// then seeders (unless not seeders), then peers, at most maxCreatesPerPass.
func (p *pass) podsToCreate(obs *observed, d PodDefaults, seeders bool) []podToCreate {
	var todo []podToCreate
	for _, role := range roles {
		for i := range p.st.count(role) {
			if role == RoleSeeder && !seeders {
				break
			}
			if len(todo) == maxCreatesPerPass {
				p.wakeIn(0)
				return todo
			}
			name := PodName(p.swarm, role, i)
			if obs.pods[name] != nil {
				continue
			}
			known := p.disruption(name)
			switch {
			case known == nil && i >= p.launched(role):
				todo = append(todo, podToCreate{sl: slot{role, i}, pod: buildPod(p.swarm, d, role, i, 0)})
			case known != nil && p.st.replaces(role):
				if due, wait := p.replacementDue(known); !due {
					p.wakeIn(wait)
					continue
				}
				todo = append(todo, podToCreate{sl: slot{role, i}, pod: buildPod(p.swarm, d, role, i, known.Attempt+1), replace: true})
			}
		}
	}
	return todo
}

// createPods creates pods in batches that double in size (1, 2, 4 ...), as the ReplicaSet
// controller does, so that a spec the API server refuses costs one call, not hundreds. It returns
// which pods now exist (created, or found already there) and the first error.
func (r *SwarmReconciler) createPods(ctx context.Context, todo []podToCreate) ([]bool, error) {
	done := make([]bool, len(todo))
	var (
		mu       sync.Mutex // owns firstErr
		firstErr error
	)
	for start, size := 0, 1; start < len(todo); start, size = start+size, min(2*size, createWorkers*4) {
		batch := todo[start:min(start+size, len(todo))]
		workqueue.ParallelizeUntil(ctx, createWorkers, len(batch), func(i int) {
			err := r.Create(ctx, batch[i].pod.DeepCopy())
			if err == nil || apierrors.IsAlreadyExists(err) {
				done[start+i] = true
				return
			}
			mu.Lock()
			defer mu.Unlock()
			firstErr = errors.Join(firstErr, fmt.Errorf("creating pod %s: %w", batch[i].pod.Name, err))
		})
		if firstErr != nil {
			return done, firstErr
		}
	}
	return done, ctx.Err()
}

// noteCreated records what the creations did: replacements counted and their disruptions
// forgotten, and how far first creations got in each role.
func (p *pass) noteCreated(obs *observed, todo []podToCreate, created []bool) {
	exists := map[string]bool{}
	var firsts int
	for i, c := range todo {
		if !created[i] {
			continue
		}
		exists[c.pod.Name] = true
		if !c.replace {
			firsts++
			continue
		}
		p.removeDisruption(c.pod.Name)
		p.status.Restarts++
		p.record(corev1.EventTypeNormal, "PodReplaced", "Create", "created %s (attempt %s)", c.pod.Name, c.pod.Labels[LabelAttempt])
	}
	if firsts > 0 {
		p.record(corev1.EventTypeNormal, "PodsCreated", "Create", "created %d pods", firsts)
	}
	for _, role := range roles {
		n := p.launched(role)
		for n < p.st.count(role) {
			name := PodName(p.swarm, role, n)
			if obs.pods[name] == nil && !exists[name] && p.disruption(name) == nil {
				break
			}
			n++
		}
		p.setLaunched(role, n)
	}
}

// deleteExcess deletes the pods above the wanted count of their role (after a scale down) and
// forgets their disruptions. It is not a failure.
func (r *SwarmReconciler) deleteExcess(ctx context.Context, p *pass, obs *observed) error {
	deleted := 0
	for name, pod := range obs.pods {
		sl, ok := slotOf(pod.Labels)
		if ok && sl.index < p.st.count(sl.role) || !pod.DeletionTimestamp.IsZero() || pod.Annotations[AnnotationNode] != "" {
			continue
		}
		if err := r.Delete(ctx, pod, client.Preconditions{UID: &pod.UID}); client.IgnoreNotFound(err) != nil && !apierrors.IsConflict(err) {
			return fmt.Errorf("deleting pod %s after a scale down: %w", name, err)
		}
		deleted++
	}
	kept := p.status.Disruptions[:0]
	for _, d := range p.status.Disruptions {
		if sl, ok := slotOfName(p.swarm, d.Pod); ok && sl.index < p.st.count(sl.role) {
			kept = append(kept, d)
		}
	}
	if len(kept) == 0 {
		kept = nil
	}
	p.status.Disruptions = kept
	for _, role := range roles {
		p.setLaunched(role, min(p.launched(role), p.st.count(role)))
	}
	if deleted > 0 {
		p.record(corev1.EventTypeNormal, "ScaledDown", "Delete", "deleted %d pods above the wanted count", deleted)
	}
	return nil
}
