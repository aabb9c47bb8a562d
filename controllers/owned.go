package controllers

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	minibitv1alpha1 "github.com/minibit-io/minibit/api/v1alpha1"
)

// ReasonNameConflict is the Failed reason of a swarm whose child's name is taken by an object
// the Swarm does not control.
const ReasonNameConflict = "NameConflict"

// ownedMeta is the metadata of a child that is not a pod: its name, the Swarm's namespace, the
// labels the manager's cache selects, and the controller owner reference.
func ownedMeta(s *minibitv1alpha1.Swarm, name, component string) metav1.ObjectMeta {
	return metav1.ObjectMeta{
		Name:      name,
		Namespace: s.Namespace,
		Labels: map[string]string{
			"app.kubernetes.io/name":      "minibit",
			"app.kubernetes.io/instance":  s.Name,
			"app.kubernetes.io/component": component,
			LabelManagedBy:                ManagedByValue,
			LabelSwarm:                    s.Name,
		},
		OwnerReferences: []metav1.OwnerReference{
			*metav1.NewControllerRef(s, minibitv1alpha1.GroupVersion.WithKind("Swarm")),
		},
	}
}

// controlledBy says whether the Swarm s (this one, by UID) controls obj.
func controlledBy(obj metav1.Object, s *minibitv1alpha1.Swarm) bool {
	owner := metav1.GetControllerOf(obj)
	return owner != nil && owner.UID == s.UID
}

// getOptional reads obj from the cache; false when it does not exist.
func (r *SwarmReconciler) getOptional(ctx context.Context, key client.ObjectKey, obj client.Object) (bool, error) {
	err := r.Get(ctx, key, obj)
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	return err == nil, err
}

// createOwned creates a child of s. When its name is taken (a stale cache, or an object the
// cache does not select) it reads the object past the cache and says whether s controls it.
func (r *SwarmReconciler) createOwned(ctx context.Context, s *minibitv1alpha1.Swarm, obj client.Object) (bool, error) {
	err := r.Create(ctx, obj)
	if err == nil {
		return true, nil
	}
	if !apierrors.IsAlreadyExists(err) {
		return false, err
	}
	existing, ok := obj.DeepCopyObject().(client.Object)
	if !ok {
		return false, fmt.Errorf("cannot copy %T", obj)
	}
	if err := r.reader().Get(ctx, client.ObjectKeyFromObject(obj), existing); err != nil {
		return false, err
	}
	return controlledBy(existing, s), nil
}

// reader reads past the cache.
func (r *SwarmReconciler) reader() client.Reader {
	if r.APIReader != nil {
		return r.APIReader
	}
	return r.Client
}

// nameConflict says which child's name is taken and what to do about it.
func nameConflict(kind, name string) string {
	return fmt.Sprintf("%s %s exists and is not this Swarm's: delete it, or give the Swarm another name", kind, name)
}
